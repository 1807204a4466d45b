"""Run ``mlflow models serve`` on loopback as the benchmark baseline, and query it.

It speaks MLflow's own ``/invocations`` JSON (not KServe v2), so tritonclient cannot be used.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import numpy as np

from kedro_mlops_kit.serving.errors import InferenceError, ServerNotReadyError
from kedro_mlops_kit.serving.ports import LOOPBACK, free_port


class MlflowServe:
    """Context manager around an ``mlflow models serve --env-manager local`` subprocess."""

    def __init__(
        self,
        model_uri: str,
        *,
        workers: int = 1,
        port: int | None = None,
        startup_timeout: float = 120.0,
        log_file: Path | None = None,
    ) -> None:
        self.model_uri = model_uri
        self.workers = workers
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.log_file = Path(log_file) if log_file else Path(f".mlflow-serve-{self.port}.log")
        self.ready_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MlflowServe:
        cmd = [
            sys.executable, "-m", "mlflow", "models", "serve",
            "-m", self.model_uri,
            "--env-manager", "local",
            "--host", LOOPBACK,
            "--port", str(self.port),
            "--workers", str(self.workers),
        ]  # fmt: skip
        env = dict(os.environ)
        # mlflow execs `uvicorn` through bash; it must come from this venv even when the venv
        # is not activated.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
            )  # fmt: skip
        while time.monotonic() - started < self.startup_timeout:
            if self._process.poll() is not None:
                log_text = self.log_file.read_text(errors="replace")[-2000:]
                self._process = None
                raise ServerNotReadyError(f"mlflow models serve exited:\n{log_text}")
            if self._ping():
                self.ready_seconds = time.monotonic() - started
                return self
            time.sleep(0.25)
        self.__exit__(None, None, None)
        raise ServerNotReadyError(f"mlflow models serve not ready after {self.startup_timeout}s")

    def _ping(self) -> bool:
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=2)
        try:
            connection.request("GET", "/ping")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            # uvicorn workers are children: terminate the whole session we started.
            os.killpg(self._process.pid, 15)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, 9)
                self._process.wait()
            self._process = None


class InvocationsClient:
    """Keep-alive HTTP client for ``/invocations`` (one per thread)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self._connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """POST ``{"inputs": rows}`` and return the predictions as float32."""
        body = json.dumps({"inputs": rows.tolist()})
        self._connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
        )
        response = self._connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise InferenceError(f"/invocations returned {response.status}: {payload[:500]!r}")
        return np.asarray(json.loads(payload)["predictions"], dtype=np.float32)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()
