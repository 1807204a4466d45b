"""Run a real tritonserver locally on the Triton model repository.

``kedro serving serve`` runs it in the foreground on 127.0.0.1 (ports from TRITON_HTTP_PORT /
TRITON_GRPC_PORT / TRITON_METRICS_PORT, default 8000/8001/8002) until Ctrl-C, SIGTERM or
SIGHUP, each of which stops the server. ``LocalTriton`` starts it as a subprocess for tests and
benchmarks. Models load through a LOCAL STAND-IN of the onnxruntime backend.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, BinaryIO

from kedro_mlops_kit.serving.errors import ServerNotReadyError
from kedro_mlops_kit.serving.model_repository import check_repository
from kedro_mlops_kit.serving.names import DEFAULT_WORK_DIR
from kedro_mlops_kit.serving.ports import LOOPBACK, ensure_free, free_port
from kedro_mlops_kit.serving.triton_runtime import has_gpu, prepare_runtime

__all__ = [
    "DEFAULT_PORTS",
    "PORT_ENV",
    "LocalTriton",
    "TerminatedBySignal",
    "default_config_name",
    "ports_from_env",
    "stop_on_signals",
]

DEFAULT_PORTS = {"http": 8000, "grpc": 8001, "metrics": 8002}
PORT_ENV = {
    "http": "TRITON_HTTP_PORT",
    "grpc": "TRITON_GRPC_PORT",
    "metrics": "TRITON_METRICS_PORT",
}
LOG_TAIL_CHARS = 2000
MAX_ERROR_LINES = 20


class TerminatedBySignal(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived; handled wherever Ctrl-C's ``KeyboardInterrupt`` is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        # The shell convention for "killed by signal N" (130 for Ctrl-C, 143 for SIGTERM).
        self.exit_code = 128 + signum


@contextlib.contextmanager
def stop_on_signals(
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP),
) -> Iterator[None]:
    """Raise :class:`TerminatedBySignal` in the main thread on ``signals``, as Ctrl-C does.

    Python's default for SIGTERM and SIGHUP ends the interpreter without running ``finally``
    blocks or ``__exit__``, which would orphan a tritonserver that runs in its own session.
    Turned into an exception, the signal unwinds the stack and the server is stopped. Only the
    first signal raises: later ones (an impatient second Ctrl-C, a supervisor repeating SIGTERM)
    must not interrupt that cleanup. A signal the process already ignores (SIGHUP under
    ``nohup``) stays ignored. Outside the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        if not received:
            received.append(signum)
            raise TerminatedBySignal(signum)

    watched = [sig for sig in signals if signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, handler) for sig in watched}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def ports_from_env() -> dict[str, int]:
    """Ports from the TRITON_*_PORT variables, falling back to Triton's defaults."""
    return {k: int(os.environ.get(PORT_ENV[k], v)) for k, v in DEFAULT_PORTS.items()}


def default_config_name() -> str | None:
    """``cpu`` on hosts without a GPU (config.pbtxt asks for KIND_GPU), else the production one."""
    return None if has_gpu() else "cpu"


class LocalTriton:
    """A tritonserver subprocess serving ``model_repository`` on loopback.

    Use as a context manager; ``__enter__`` returns once every model is ready (or raises with
    the server log), ``__exit__`` stops the server. Ports default to free ones.
    """

    def __init__(
        self,
        model_repository: Path,
        *,
        http_port: int | None = None,
        grpc_port: int | None = None,
        metrics_port: int | None = None,
        model_config_name: str | None = "auto",
        work_dir: Path = DEFAULT_WORK_DIR,
        poll_seconds: int | None = 5,
        startup_timeout: float = 60.0,
        log_file: Path | None = None,
    ) -> None:
        self.model_repository = Path(model_repository).resolve()
        self.ports = {
            "http": http_port or free_port(),
            "grpc": grpc_port or free_port(),
            "metrics": metrics_port or free_port(),
        }
        self.model_config_name = (
            default_config_name() if model_config_name == "auto" else model_config_name
        )
        self.work_dir = Path(work_dir)
        self.poll_seconds = poll_seconds
        self.startup_timeout = startup_timeout
        self.log_file = Path(log_file) if log_file else None
        self.models: list[str] = []
        self.ready_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle: BinaryIO | None = None

    @property
    def http_url(self) -> str:
        """``host:port`` of the HTTP/REST endpoint (tritonclient's URL format)."""
        return f"{LOOPBACK}:{self.ports['http']}"

    @property
    def grpc_url(self) -> str:
        """``host:port`` of the gRPC endpoint."""
        return f"{LOOPBACK}:{self.ports['grpc']}"

    @property
    def metrics_url(self) -> str:
        """Prometheus metrics URL."""
        return f"http://{LOOPBACK}:{self.ports['metrics']}/metrics"

    def command(self, binary: Path, backend_dir: Path, cache_dir: Path) -> list[str]:
        """Return the tritonserver command line."""
        cmd = [
            str(binary),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={backend_dir}",
            f"--cache-directory={cache_dir}",
            f"--http-address={LOOPBACK}",
            f"--http-port={self.ports['http']}",
            f"--grpc-address={LOOPBACK}",
            f"--grpc-port={self.ports['grpc']}",
            f"--metrics-address={LOOPBACK}",
            f"--metrics-port={self.ports['metrics']}",
            "--allow-metrics=true",
        ]
        if self.model_config_name:
            cmd.append(f"--model-config-name={self.model_config_name}")
        if self.poll_seconds:
            # Poll mode makes export/rollback take effect without restarting the server.
            cmd += ["--model-control-mode=poll", f"--repository-poll-secs={self.poll_seconds}"]
        return cmd

    def start(self, *, stdout: IO | int | None = None) -> None:
        """Start the server (non-blocking). ``stdout=None`` logs to ``log_file``."""
        self.models = check_repository(self.model_repository)
        for purpose, port in self.ports.items():
            ensure_free(port, f"Triton {purpose}")
        runtime = prepare_runtime(self.work_dir)
        if stdout is None:
            self.log_file = self.log_file or (
                runtime.binary.parent.parent / "logs" / f"tritonserver-{self.ports['http']}.log"
            )
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            stdout = self._log_handle = self.log_file.open("wb")
        cmd = self.command(runtime.binary, runtime.backend_dir, runtime.cache_dir)
        self._started_at = time.monotonic()
        self._process = subprocess.Popen(
            cmd, stdout=stdout, stderr=subprocess.STDOUT, env=runtime.env, start_new_session=True
        )

    def _get(self, path: str) -> int:
        url = f"http://{self.http_url}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0

    def wait_until_ready(self) -> float:
        """Block until the server and all models are ready; return seconds since start."""
        if self._process is None:
            raise ServerNotReadyError("server not started")
        deadline = self._started_at + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServerNotReadyError(
                    f"tritonserver exited with code {self._process.returncode} during startup.\n"
                    f"{self.log_tail()}"
                )
            models_ready = all(self._get(f"/v2/models/{m}/ready") == 200 for m in self.models)
            if self._get("/v2/health/ready") == 200 and models_ready:
                self.ready_seconds = time.monotonic() - self._started_at
                return self.ready_seconds
            time.sleep(0.1)
        raise ServerNotReadyError(
            f"models {self.models} not ready after {self.startup_timeout:.0f}s.\n{self.log_tail()}"
        )

    def log_tail(self) -> str:
        """Return the server log's error lines and its last lines (for error messages)."""
        if self.log_file is None or not self.log_file.exists():
            return "(server log went to the console)"
        lines = self.log_file.read_text(errors="replace").splitlines()
        # Triton prints model-load failures early and then a wide status table; the "E..." lines
        # are what explains a failure, so they come first.
        noise = ("CudaDriverHelper", "NVML", "DCGM")
        errors = [ln for ln in lines if ln.startswith("E") and not any(n in ln for n in noise)]
        tail = "\n".join(lines)[-LOG_TAIL_CHARS:]
        return (
            f"--- errors in {self.log_file} ---\n"
            + "\n".join(errors[-MAX_ERROR_LINES:])
            + f"\n--- tail of {self.log_file} ---\n{tail}"
        )

    def is_running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server: SIGTERM (Triton drains in-flight requests), then SIGKILL.

        The server runs in its own session (so a terminal's Ctrl-C reaches only this process,
        which then stops it cleanly); whatever is left of that session afterwards, such as a
        Python backend stub, is killed too, so no process outlives ``stop``.
        """
        if self._process is None:
            return
        session = self._process.pid
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(session, signal.SIGKILL)
        self._process = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def wait(self) -> int:
        """Wait for the server process to exit and return its exit code."""
        if self._process is None:
            return 0
        return self._process.wait()

    def __enter__(self) -> LocalTriton:
        self.start()
        try:
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
