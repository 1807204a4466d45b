"""Prepare a runnable ``tritonserver`` from the nvidia-pytriton wheel (binary, backends, env).

The wheel bundles the real Triton server with only the Python backend. This module copies it to
a work dir, adds the Python-backend stub for the running interpreter and the local ONNX Runtime
stand-in backend, and builds the environment the stub needs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from kedro_mlops_kit.serving.errors import TritonNotAvailableError
from kedro_mlops_kit.serving.names import DEFAULT_WORK_DIR

STAND_IN_SOURCE = Path(__file__).parent / "triton_backends" / "onnxruntime" / "model.py"


@dataclass(frozen=True)
class TritonRuntime:
    """A prepared work dir: the binary, its backend/cache dirs and the process environment."""

    binary: Path
    backend_dir: Path
    cache_dir: Path
    env: dict[str, str]


def _wheel_root() -> tuple[Path, Path]:
    spec = importlib.util.find_spec("pytriton")
    if spec is None or spec.origin is None:
        raise TritonNotAvailableError(
            "nvidia-pytriton is not installed; install the plugin's `serve` extra "
            "(`pip install 'kedro-mlops-kit[serve]'`, or nvidia-pytriton) for the tritonserver "
            "binary used for local serving"
        )
    package = Path(spec.origin).parent
    server_dir = package / "tritonserver"
    libs = package.parent / "nvidia_pytriton.libs"
    if not (server_dir / "bin" / "tritonserver").is_file():
        raise TritonNotAvailableError(
            f"no tritonserver binary in {server_dir}; reinstall the wheel"
        )
    return server_dir, libs


def _python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def prepare_runtime(work_dir: Path = DEFAULT_WORK_DIR) -> TritonRuntime:
    """Populate ``work_dir`` (idempotent) and return how to run the server from it."""
    server_dir, libs = _wheel_root()
    work_dir = Path(work_dir).resolve()
    stamp = work_dir / ".pytriton-version"
    version = metadata.version("nvidia-pytriton") + f"-py{_python_tag()}"
    if not stamp.is_file() or stamp.read_text() != version:
        # Re-copy whenever the wheel or the interpreter changes: a stale stub for another
        # Python version fails with obscure errors at model load time.
        shutil.rmtree(work_dir / "bin", ignore_errors=True)
        shutil.rmtree(work_dir / "backends" / "python", ignore_errors=True)
        shutil.copytree(server_dir / "bin", work_dir / "bin")
        shutil.copytree(server_dir / "caches", work_dir / "caches", dirs_exist_ok=True)
        shutil.copytree(server_dir / "backends" / "python", work_dir / "backends" / "python")
        stub = server_dir / "python_backend_stubs" / _python_tag() / "triton_python_backend_stub"
        if not stub.is_file():
            raise TritonNotAvailableError(
                f"the wheel has no Python backend stub for {_python_tag()}"
            )
        shutil.copy2(stub, work_dir / "backends" / "python" / stub.name)
        stamp.write_text(version)
    # The stand-in is always refreshed so edits to it take effect on the next start.
    stand_in_dir = work_dir / "backends" / "onnxruntime"
    stand_in_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STAND_IN_SOURCE, stand_in_dir / "model.py")
    return TritonRuntime(
        binary=work_dir / "bin" / "tritonserver",
        backend_dir=work_dir / "backends",
        cache_dir=work_dir / "caches",
        env=server_env(libs),
    )


def server_env(libs: Path) -> dict[str, str]:
    """Environment for tritonserver and its Python stub.

    - LD_LIBRARY_PATH: the wheel's bundled libs, then this interpreter's LIBDIR. Without LIBDIR
      the stub binds the system libpython (another patch release) and fails at import time.
    - PATH: this venv's bin first, because the stub launches ``python3`` from PATH (it ignores
      PYTHONPATH), and that interpreter must see numpy and onnxruntime.
    """
    env = dict(os.environ)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    ld_parts = [str(libs), libdir, env.get("LD_LIBRARY_PATH", "")]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in ld_parts if p)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def has_gpu() -> bool:
    """Whether an NVIDIA GPU is visible (decides between config.pbtxt and configs/cpu.pbtxt)."""
    return Path("/dev/nvidiactl").exists() and shutil.which("nvidia-smi") is not None
