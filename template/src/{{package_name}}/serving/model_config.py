"""Read, write and sync Triton ``config.pbtxt`` files with tritonclient's protobuf types.

Using the real ``ModelConfig`` message (instead of string templating) means a typo in a field a
user edited fails loudly at parse time, and every field we do not touch survives a round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from .atomic import atomic_write_text
from .errors import ModelRepositoryError

CONFIG_FILE = "config.pbtxt"
CONFIG_DIR = "configs"
CPU_CONFIG_NAME = "cpu"
INPUT_NAME = "features"
OUTPUT_NAME = "predictions"
DEFAULT_MAX_BATCH_SIZE = 256
# Model-level parameters carry the feature order and labels so that clients can build requests
# from named columns using only what the server reports (get_model_config).
PARAM_FEATURE_COLUMNS = "feature_columns"
PARAM_TASK = "task"
PARAM_CLASS_LABELS = "class_labels"


@dataclass(frozen=True)
class ModelSignature:
    """What the exported model consumes and produces (the part config.pbtxt must agree with)."""

    n_features: int
    n_outputs: int
    feature_columns: tuple[str, ...]
    task: str
    class_labels: tuple[str, ...] | None = None


def read_config(path: Path) -> mc.ModelConfig:
    """Parse a ``config.pbtxt`` file into a ``ModelConfig`` message."""
    try:
        return text_format.Parse(Path(path).read_text(encoding="utf-8"), mc.ModelConfig())
    except FileNotFoundError as exc:
        raise ModelRepositoryError(f"Triton model config not found: {path}") from exc
    except text_format.ParseError as exc:
        raise ModelRepositoryError(f"Invalid Triton model config {path}: {exc}") from exc


def write_config(config: mc.ModelConfig, path: Path) -> None:
    """Serialise ``config`` to ``path`` in protobuf text format, atomically."""
    atomic_write_text(Path(path), text_format.MessageToString(config))


def config_paths(model_dir: Path) -> list[Path]:
    """Return the production config and every alternative config (``configs/*.pbtxt``)."""
    model_dir = Path(model_dir)
    return [model_dir / CONFIG_FILE, *sorted((model_dir / CONFIG_DIR).glob("*.pbtxt"))]


def default_config(
    model_name: str,
    signature: ModelSignature,
    *,
    kind: int = mc.ModelInstanceGroup.KIND_GPU,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
) -> mc.ModelConfig:
    """Build the project's default config: ONNX Runtime backend, dynamic batching, latest 2.

    Two versions stay loaded (``latest { num_versions: 2 }``) so that the previous version can
    still be addressed explicitly while the newest one is the default target.
    """
    config = mc.ModelConfig(name=model_name, backend="onnxruntime", max_batch_size=max_batch_size)
    config.version_policy.latest.num_versions = 2
    config.input.add(name=INPUT_NAME, data_type=mc.TYPE_FP32)
    config.output.add(name=OUTPUT_NAME, data_type=mc.TYPE_FP32)
    config.dynamic_batching.max_queue_delay_microseconds = 100
    config.instance_group.add(count=1, kind=kind)
    _apply_signature(config, signature)
    return config


def _tensor(tensors: Sequence[mc.ModelInput | mc.ModelOutput], name: str, path: Path):
    for tensor in tensors:
        if tensor.name == name:
            return tensor
    raise ModelRepositoryError(f"{path}: no tensor named {name!r}; the model contract requires it")


def _apply_signature(config: mc.ModelConfig, signature: ModelSignature, path: Path = Path()):
    feature_tensor = _tensor(config.input, INPUT_NAME, path)
    output_tensor = _tensor(config.output, OUTPUT_NAME, path)
    # Dims exclude the batch dimension because max_batch_size > 0.
    del feature_tensor.dims[:]
    feature_tensor.dims.append(signature.n_features)
    feature_tensor.data_type = mc.TYPE_FP32
    del output_tensor.dims[:]
    output_tensor.dims.append(signature.n_outputs)
    output_tensor.data_type = mc.TYPE_FP32
    config.parameters[PARAM_FEATURE_COLUMNS].string_value = ",".join(signature.feature_columns)
    config.parameters[PARAM_TASK].string_value = signature.task
    if signature.class_labels is None:
        if PARAM_CLASS_LABELS in config.parameters:
            del config.parameters[PARAM_CLASS_LABELS]
    else:
        labels = ",".join(signature.class_labels)
        config.parameters[PARAM_CLASS_LABELS].string_value = labels


def sync_config_dims(model_dir: Path, model_name: str, signature: ModelSignature) -> list[Path]:
    """Make every config of ``model_dir`` agree with ``signature``; create missing ones.

    Only the ``features``/``predictions`` dims and data types and the model parameters that
    describe the signature are changed; every other field (instance groups, batching, policy,
    user-added parameters) is kept. Returns the paths written.
    """
    model_dir = Path(model_dir)
    production = model_dir / CONFIG_FILE
    cpu = model_dir / CONFIG_DIR / f"{CPU_CONFIG_NAME}.pbtxt"
    if not production.exists():
        write_config(default_config(model_name, signature), production)
    if not cpu.exists():
        # The CPU variant mirrors the production config except for the device kind, so a
        # laptop or CI runner serves exactly what production serves.
        cpu_config = read_config(production)
        for group in cpu_config.instance_group:
            group.kind = mc.ModelInstanceGroup.KIND_CPU
            del group.gpus[:]
        write_config(cpu_config, cpu)
    written = []
    for path in config_paths(model_dir):
        config = read_config(path)
        if config.name and config.name != model_name:
            raise ModelRepositoryError(
                f"{path}: name {config.name!r} does not match model folder {model_name!r}"
            )
        _apply_signature(config, signature, path)
        write_config(config, path)
        written.append(path)
    return written


def max_batch_size(model_dir: Path) -> int:
    """Return ``max_batch_size`` of the production config of ``model_dir``."""
    return read_config(Path(model_dir) / CONFIG_FILE).max_batch_size
