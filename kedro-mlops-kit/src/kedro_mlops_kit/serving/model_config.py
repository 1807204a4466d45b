"""Triton ``config.pbtxt`` files of the model repository: read, create when missing, check.

Design: export never writes a config that exists. ``config.pbtxt`` (production) and
``configs/*.pbtxt`` (e.g. ``configs/cpu.pbtxt``) belong to the team: committed, commented and
edited by hand (instance groups, batching, version policy). Nothing in them is derived from the
exported model, so exporting a new model leaves them byte-identical:

- They declare no ``input``/``output`` blocks. Triton's auto-complete reads the tensor names,
  data types and dims of each version from its ``model.onnx`` (the official onnxruntime backend
  does it natively; the local stand-in implements ``auto_complete_config``). A model with more
  features therefore needs no config change, and the server still rejects a request of the
  wrong width, because the completed config carries the model's exact dims. (A committed
  ``dims: [ -1 ]`` would not work: the official backend refuses a variable config dim for a
  fixed model dim.)
- They carry no feature names or class labels: those travel as JSON inside ``model.onnx``
  (:mod:`kedro_mlops_kit.serving.contract`), one contract per version.

Export creates the two configs only in a folder that has none (a fresh repository, tests), and
otherwise *checks* them before anything is written: a config whose ``name`` is another model,
or that still pins ``features``/``predictions`` dims that disagree with the model (v0.2
projects did), fails the export with the fix in the message.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from kedro_mlops_kit.serving.atomic import atomic_write_text
from kedro_mlops_kit.serving.contract import ModelSignature
from kedro_mlops_kit.serving.errors import ModelRepositoryError

__all__ = [
    "CONFIG_DIR",
    "CONFIG_FILE",
    "CPU_CONFIG_NAME",
    "DEFAULT_MAX_BATCH_SIZE",
    "OUTPUT_NAME",
    "ModelSignature",
    "check_config",
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

_HEADER = (
    "# Triton config of {name}, created by `kedro serving export` because none existed.\n"
    "# Yours to edit and commit: export never rewrites it. Inputs and outputs are not listed on\n"
    "# purpose: Triton reads them from each version's model.onnx (auto-complete).\n"
)


def read_config(path: Path) -> mc.ModelConfig:
    """Parse a ``config.pbtxt`` file into a ``ModelConfig`` message."""
    try:
        return text_format.Parse(Path(path).read_text(encoding="utf-8"), mc.ModelConfig())
    except FileNotFoundError as exc:
        raise ModelRepositoryError(f"Triton model config not found: {path}") from exc
    except text_format.ParseError as exc:
        raise ModelRepositoryError(f"Invalid Triton model config {path}: {exc}") from exc


def write_config(config: mc.ModelConfig, path: Path, header: str = "") -> None:
    """Serialise ``config`` to ``path`` in protobuf text format, atomically."""
    atomic_write_text(Path(path), header + text_format.MessageToString(config))


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
    outputs are left to Triton's auto-complete (see the module docstring).
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
    """Raise ``ModelRepositoryError`` if the config at ``path`` cannot serve ``signature``."""
    config = read_config(path)
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

    Existing files are only read, never written. Returns every config path of the model.
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
        write_config(default_config(model_name), production, header)
    if not cpu.exists():
        # The CPU variant mirrors the production config except for the device kind, so a
        # laptop or CI runner serves exactly what production serves.
        cpu_config = read_config(production)
        for group in cpu_config.instance_group:
            group.kind = mc.ModelInstanceGroup.KIND_CPU
            del group.gpus[:]
        write_config(cpu_config, cpu, header)
    return config_paths(model_dir)


def max_batch_size(model_dir: Path) -> int:
    """Return ``max_batch_size`` of the production config of ``model_dir``."""
    return read_config(Path(model_dir) / CONFIG_FILE).max_batch_size
