"""Triton ``config.pbtxt`` files of the model repository: read, create when missing, check.

Design: ``config.pbtxt`` (production) and ``configs/*.pbtxt`` (e.g. ``configs/cpu.pbtxt``)
belong to the team: committed, commented and edited by hand (instance groups, batching,
version policy). Export never touches them, except for one marked block:

- Between ``IO_BEGIN`` and ``IO_END``, export declares the served version's inputs (one per
  raw column, named by it: ``TYPE_FP32``, ``TYPE_FP64``, ``TYPE_BOOL`` or ``TYPE_STRING``,
  ``dims: [ 1 ]``) and its ``predictions`` output, read from the exported model's contract. The
  config then documents the served API and Triton checks every version against it. Older
  version folders whose inputs differ (a schema change) are removed in the same export, since
  Triton could not load them under the new declaration; they are build outputs, re-created from
  the registry by ``export`` or ``rollback``. Everything outside the block stays byte-identical.
- A config without the markers declares nothing (or what the team wrote): Triton's
  auto-complete reads each version's tensors from its ``model.onnx`` (the official onnxruntime
  backend natively; the local stand-in implements ``auto_complete_config``), and export only
  checks declared blocks against the model.
- Feature names and class labels travel as JSON inside ``model.onnx``
  (:mod:`kedro_mlops_kit.serving.contract`), one contract per version.

Export creates the two configs only in a folder that has none (a fresh repository, tests), and
otherwise *checks* them before anything is written: a config whose ``name`` is another model,
or whose input/output blocks outside the marked block disagree with the model, fails the export
with the fix in the message.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from kedro_mlops_kit.serving.atomic import atomic_write_text
from kedro_mlops_kit.serving.contract import ModelSignature
from kedro_mlops_kit.serving.errors import ModelRepositoryError

__all__ = [
    "IO_BEGIN",
    "IO_END",
    "CONFIG_DIR",
    "CONFIG_FILE",
    "CPU_CONFIG_NAME",
    "DEFAULT_MAX_BATCH_SIZE",
    "OUTPUT_NAME",
    "ModelSignature",
    "check_config",
    "declare_io",
    "declares_io",
    "io_declaration",
    "config_paths",
    "default_config",
    "ensure_configs",
    "max_batch_size",
    "read_config",
    "write_config",
]

CONFIG_FILE = "config.pbtxt"
CONFIG_DIR = "configs"
CPU_CONFIG_NAME = "cpu"
OUTPUT_NAME = "predictions"
DEFAULT_MAX_BATCH_SIZE = 256

IO_BEGIN = "# >>> inputs and outputs of the served model: `make export` writes this block"
IO_END = "# <<< end of inputs and outputs"
_HEADER = (
    "# Triton config of {name}, created by `kedro serving export` because none existed.\n"
    "# Yours to edit and commit: export rewrites only the marked inputs-and-outputs block.\n"
)
_TRITON_TYPES = {"FP32": mc.TYPE_FP32, "FP64": mc.TYPE_FP64, "BOOL": mc.TYPE_BOOL}


def _managed(text: str) -> tuple[str, str, str] | None:
    """Split ``text`` into (before, block, after) around the markers; None without them."""
    start, end = text.find(IO_BEGIN), text.find(IO_END)
    if start < 0 or end < start:
        return None
    body = start + len(IO_BEGIN)
    return text[:body], text[body:end], text[end:]


def io_declaration(signature: ModelSignature) -> str:
    """Return the ``input``/``output`` blocks of ``signature`` in protobuf text format."""
    config = mc.ModelConfig()
    for column in signature.feature_columns:
        datatype = _TRITON_TYPES.get(signature.datatypes[column], mc.TYPE_STRING)
        config.input.add(name=column, data_type=datatype, dims=[1])
    config.output.add(name=OUTPUT_NAME, data_type=mc.TYPE_FP32, dims=[signature.n_outputs])
    return text_format.MessageToString(config)


def declares_io(path: Path) -> bool:
    """Whether the config at ``path`` has the marked block export writes."""
    return _managed(Path(path).read_text(encoding="utf-8")) is not None


def declare_io(path: Path, signature: ModelSignature) -> bool:
    """Write ``signature``'s inputs and outputs into the marked block of the config at ``path``.

    Returns whether the file changed: False when it has no markers (auto-complete) or already
    declares exactly these tensors.
    """
    text = Path(path).read_text(encoding="utf-8")
    parts = _managed(text)
    if parts is None:
        return False
    before, block, after = parts
    wanted = "\n" + io_declaration(signature)
    if block == wanted:
        return False
    atomic_write_text(Path(path), before + wanted + after)
    return True


def read_config(path: Path, *, without_managed_io: bool = False) -> mc.ModelConfig:
    """Parse a ``config.pbtxt`` file into a ``ModelConfig`` message.

    With ``without_managed_io``, the marked block export writes is left out (it is about to be
    rewritten for the model being exported).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
        parts = _managed(text) if without_managed_io else None
        if parts is not None:
            text = parts[0] + "\n" + parts[2]
        return text_format.Parse(text, mc.ModelConfig())
    except FileNotFoundError as exc:
        raise ModelRepositoryError(f"Triton model config not found: {path}") from exc
    except text_format.ParseError as exc:
        raise ModelRepositoryError(f"Invalid Triton model config {path}: {exc}") from exc


def write_config(
    config: mc.ModelConfig, path: Path, header: str = "", *, managed_io: bool = False
) -> None:
    """Serialise ``config`` to ``path`` in protobuf text format, atomically.

    With ``managed_io``, an empty marked block follows, for export to declare the inputs in.
    """
    block = f"{IO_BEGIN}\n{IO_END}\n" if managed_io else ""
    atomic_write_text(Path(path), header + text_format.MessageToString(config) + block)


def config_paths(model_dir: Path) -> list[Path]:
    """Return the production config and every alternative config (``configs/*.pbtxt``)."""
    model_dir = Path(model_dir)
    return [model_dir / CONFIG_FILE, *sorted((model_dir / CONFIG_DIR).glob("*.pbtxt"))]


def default_config(
    model_name: str,
    *,
    kind: int = mc.ModelInstanceGroup.KIND_GPU,
    count: int = 1,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
) -> mc.ModelConfig:
    """Build the default config: ONNX Runtime backend, dynamic batching, latest 2 versions.

    Two versions stay loaded (``latest { num_versions: 2 }``) so that the previous version can
    still be addressed explicitly while the newest one is the default target. Inputs and
    outputs go in the marked block export writes (see the module docstring).
    """
    config = mc.ModelConfig(name=model_name, backend="onnxruntime", max_batch_size=max_batch_size)
    config.version_policy.latest.num_versions = 2
    config.dynamic_batching.max_queue_delay_microseconds = 500
    config.instance_group.add(count=count, kind=kind)
    return config


def _check_inputs(path: Path, tensors, signature: ModelSignature) -> None:
    if not tensors:
        return  # Triton auto-completes them from model.onnx
    wanted = {
        c: "TYPE_STRING" if t == "BYTES" else f"TYPE_{t}" for c, t in signature.datatypes.items()
    }
    declared = {t.name: t for t in tensors}
    problems = [f"{name!r} is not a column of the model" for name in declared if name not in wanted]
    problems += [f"{name!r} is not declared" for name in wanted if name not in declared]
    for name, tensor in declared.items():
        if name in wanted and (
            mc.DataType.Name(tensor.data_type) != wanted[name] or list(tensor.dims) != [1]
        ):
            problems.append(
                f"{name!r} is {mc.DataType.Name(tensor.data_type)} {list(tensor.dims)}, the "
                f"model takes {wanted[name]} [1]"
            )
    if problems:
        raise ModelRepositoryError(
            f"{path}: its input blocks do not match the exported model (one input per raw "
            f"column): {'; '.join(problems)}. Remove the input blocks (Triton reads them from "
            "model.onnx) or correct them."
        )


def _check_tensor(path: Path, tensors, name: str, width: int) -> None:
    if not tensors:
        return  # Triton auto-completes them from model.onnx
    declared = [t for t in tensors if t.name == name]
    if not declared:
        raise ModelRepositoryError(
            f"{path}: declares tensors {[t.name for t in tensors]} but not {name!r}, which the "
            "model contract requires. Remove the input/output blocks (Triton reads them from "
            "model.onnx) or name the tensor correctly."
        )
    tensor = declared[0]
    if tensor.data_type != mc.TYPE_FP32 or list(tensor.dims) != [width]:
        raise ModelRepositoryError(
            f"{path}: tensor {name!r} is declared as {mc.DataType.Name(tensor.data_type)} "
            f"{list(tensor.dims)}, but the exported model has TYPE_FP32 [{width}]. Remove the "
            "input/output blocks from the config (Triton then reads them from model.onnx) or "
            f"set dims: [ {width} ]."
        )


def check_config(path: Path, model_name: str, signature: ModelSignature) -> mc.ModelConfig:
    """Raise ``ModelRepositoryError`` if the config at ``path`` cannot serve ``signature``.

    The marked block is not checked: export rewrites it for ``signature``.
    """
    config = read_config(path, without_managed_io=True)
    if config.name and config.name != model_name:
        raise ModelRepositoryError(
            f"{path}: name {config.name!r} does not match model folder {model_name!r}; set "
            f'name: "{model_name}" or remove the name line'
        )
    _check_inputs(path, config.input, signature)
    _check_tensor(path, config.output, OUTPUT_NAME, signature.n_outputs)
    return config


def ensure_configs(model_dir: Path, model_name: str, signature: ModelSignature) -> list[Path]:
    """Create missing configs of ``model_dir`` and check every config against ``signature``.

    Existing files are only read here (:func:`declare_io` writes their marked block once the
    version is installed). Returns every config path of the model.
    """
    model_dir = Path(model_dir)
    production = model_dir / CONFIG_FILE
    cpu = model_dir / CONFIG_DIR / f"{CPU_CONFIG_NAME}.pbtxt"
    paths = config_paths(model_dir)
    # Check first: a failing export must not leave new files behind either.
    for path in (p for p in paths if p.is_file()):
        check_config(path, model_name, signature)
    header = _HEADER.format(name=model_name)
    if not production.exists():
        write_config(default_config(model_name), production, header, managed_io=True)
    if not cpu.exists():
        # The CPU variant mirrors the production config except for the device kind, so a
        # laptop or CI runner serves exactly what production serves.
        cpu_config = read_config(production, without_managed_io=True)
        for group in cpu_config.instance_group:
            group.kind = mc.ModelInstanceGroup.KIND_CPU
            del group.gpus[:]
        managed = _managed(production.read_text(encoding="utf-8")) is not None
        write_config(cpu_config, cpu, header, managed_io=managed)
    return config_paths(model_dir)


def max_batch_size(model_dir: Path) -> int:
    """Return ``max_batch_size`` of the production config of ``model_dir``."""
    return read_config(Path(model_dir) / CONFIG_FILE, without_managed_io=True).max_batch_size
