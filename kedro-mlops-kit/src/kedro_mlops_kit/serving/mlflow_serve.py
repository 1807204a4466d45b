"""Serve the exported ONNX graph with ``mlflow models serve`` as the benchmark baseline.

The baseline must run the *same* model as Triton, or the comparison measures two different
models. :func:`save_onnx_pyfunc` writes, at bench time and into a temporary folder (not the
registry), a small MLflow pyfunc (:class:`OnnxPyfunc`) that runs a version's ``model.onnx`` with
ONNX Runtime on a DataFrame holding one wire-form column per served input; :class:`MlflowServe`
serves that folder with ``mlflow models serve --env-manager local``. It speaks MLflow's own
``/invocations`` JSON (``dataframe_split``, not KServe v2), so tritonclient cannot query it:
:class:`InvocationsClient` does.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from kedro_mlops_kit.serving.errors import InferenceError, ServerNotReadyError
from kedro_mlops_kit.serving.ports import LOOPBACK, free_port

OUTPUT_NAME = "predictions"
_ONNX_ARTIFACT = "model_onnx"
# ONNX Runtime input type -> numpy dtype of the column fed to the session.
_NUMPY_OF_ORT = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxPyfunc(PythonModel):
    """MLflow pyfunc running an exported ``model.onnx`` on wire-form DataFrame columns.

    Like Triton's local backend, the session uses one intra-op thread per worker process, so
    both servers get the same per-instance compute.
    """

    def load_context(self, context: Any) -> None:
        """Open the ONNX Runtime session on the packaged ``model.onnx``."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            context.artifacts[_ONNX_ARTIFACT], options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name: i.type for i in self.session.get_inputs()}

    # A DataFrame type hint: MLflow passes the frame through as is (no schema inference).
    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> np.ndarray:
        """Run the graph: one ``[n, 1]`` input per DataFrame column named like a served input."""
        feed = {}
        for name, onnx_type in self.inputs.items():
            column = model_input[name]
            if onnx_type == "tensor(string)":
                values = np.array(["" if v is None else str(v) for v in column], dtype=object)
            else:
                values = column.to_numpy(dtype=_NUMPY_OF_ORT[onnx_type])
            feed[name] = values.reshape(-1, 1)
        return self.session.run([OUTPUT_NAME], feed)[0]


# "Models from code": MLflow stores this file instead of a pickle of the model object.
_MODEL_CODE = """\
from mlflow.models import set_model

from kedro_mlops_kit.serving.mlflow_serve import OnnxPyfunc

set_model(OnnxPyfunc())
"""


def save_onnx_pyfunc(onnx_path: Path, folder: Path) -> Path:
    """Write an MLflow pyfunc model serving ``onnx_path`` into ``folder`` (created; replaced).

    Returns the model folder, to be served with ``mlflow models serve -m <folder>``.
    """
    import mlflow.pyfunc

    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onnx-pyfunc-code-") as code_dir:
        code = Path(code_dir) / "onnx_pyfunc.py"
        code.write_text(_MODEL_CODE, encoding="utf-8")
        mlflow.pyfunc.save_model(
            path=str(folder),
            python_model=str(code),
            artifacts={_ONNX_ARTIFACT: str(onnx_path)},
            # Explicit: inferring them imports and times the model, and pins local builds.
            pip_requirements=["onnxruntime", "numpy", "pandas"],
        )
    return folder


def dataframe_split_body(inputs: Mapping[str, np.ndarray]) -> bytes:
    """Return the ``/invocations`` JSON body (``dataframe_split``) of per-column ``inputs``.

    Missing numbers are sent as bare ``NaN`` (MLflow's server parses it), text as strings.
    """
    columns = list(inputs)
    values = [_json_values(inputs[c]) for c in columns]
    rows = [list(row) for row in zip(*values, strict=True)]
    body = {"dataframe_split": {"columns": columns, "data": rows}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _json_values(array: np.ndarray) -> list:
    flat = np.asarray(array).reshape(-1)
    if flat.dtype == np.object_:
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat]
    if flat.dtype == np.bool_:
        return [bool(v) for v in flat]
    return [math.nan if math.isnan(v) else float(v) for v in flat.astype(np.float64)]


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

    def post(self, body: bytes) -> bytes:
        """POST a prepared JSON ``body``; return the response payload (raise unless 200)."""
        self._connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
        )
        response = self._connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise InferenceError(f"/invocations returned {response.status}: {payload[:500]!r}")
        return payload

    def predict(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Send per-column ``inputs`` as ``dataframe_split``; return the predictions (float32)."""
        payload = self.post(dataframe_split_body(inputs))
        return np.asarray(json.loads(payload)["predictions"], dtype=np.float32)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()
