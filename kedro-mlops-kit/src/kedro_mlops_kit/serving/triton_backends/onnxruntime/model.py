"""LOCAL STAND-IN for the official Triton image's ``onnxruntime`` backend.

The nvidia-pytriton wheel ships the real ``tritonserver`` but only the Python backend. Installed
as ``<backend-dir>/onnxruntime/model.py``, this file becomes a Python-based backend named
``onnxruntime``, so the unchanged production ``config.pbtxt`` (``backend: "onnxruntime"``) and
``<version>/model.onnx`` load locally. It runs the graph with the onnxruntime Python package.
It is NOT used in production: the official image's C++ onnxruntime backend replaces it there.

Like the production backend it auto-completes the config: a ``config.pbtxt`` without
``input``/``output`` blocks gets them from the version's ``model.onnx`` (names, data types,
dims). Unlike the production backend it also rejects non-finite values with a named error, so a
bad row surfaces as an InferenceError instead of NaN predictions during local runs.
"""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

INPUT_NAME = "features"
OUTPUT_NAME = "predictions"
# ONNX Runtime type names -> Triton config data types (what the official backend maps).
ORT_TO_TRITON = {
    "tensor(float)": "TYPE_FP32",
    "tensor(double)": "TYPE_FP64",
    "tensor(float16)": "TYPE_FP16",
    "tensor(int64)": "TYPE_INT64",
    "tensor(int32)": "TYPE_INT32",
    "tensor(int8)": "TYPE_INT8",
    "tensor(uint8)": "TYPE_UINT8",
    "tensor(bool)": "TYPE_BOOL",
    "tensor(string)": "TYPE_STRING",
}


def _model_file_of_this_stub():
    """Return the model file this stub was started for.

    During auto-complete the Python backend passes no paths to Python; the stub's first
    argument is ``<model>/<version>/<default_model_filename>`` (relative to the server's
    working directory, which the stub shares).
    """
    try:
        argv = Path("/proc/self/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if len(argv) > 1 and argv[1].endswith(b".onnx"):
        path = Path(argv[1].decode())
        return path if path.is_file() else None
    return None


def _io_configs(tensors, batching):
    configs = []
    for tensor in tensors:
        shape = list(tensor.shape)[1:] if batching else list(tensor.shape)
        dims = [d if isinstance(d, int) and d >= 0 else -1 for d in shape]
        data_type = ORT_TO_TRITON.get(tensor.type)
        if data_type is None:
            raise ValueError(f"unsupported ONNX type {tensor.type} of tensor {tensor.name!r}")
        configs.append({"name": tensor.name, "data_type": data_type, "dims": dims})
    return configs


class TritonPythonModel:
    """Serve ``<model_dir>/<version>/model.onnx`` with ONNX Runtime (local stand-in)."""

    @staticmethod
    def auto_complete_config(auto_complete_model_config):
        """Add the inputs/outputs config.pbtxt leaves out, read from model.onnx."""
        config = auto_complete_model_config.as_dict()
        if config.get("input") and config.get("output"):
            return auto_complete_model_config
        model_file = _model_file_of_this_stub()
        if model_file is None:
            # initialize() then fails with a message naming the missing tensor config.
            return auto_complete_model_config
        session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
        batching = int(config.get("max_batch_size", 0)) > 0
        if not config.get("input"):
            for tensor in _io_configs(session.get_inputs(), batching):
                auto_complete_model_config.add_input(tensor)
        if not config.get("output"):
            for tensor in _io_configs(session.get_outputs(), batching):
                auto_complete_model_config.add_output(tensor)
        return auto_complete_model_config

    def initialize(self, args):
        """Load the version folder's model.onnx and read the expected feature count."""
        config = json.loads(args["model_config"])
        model_path = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        features = [t for t in config["input"] if t["name"] == INPUT_NAME]
        if not features:
            raise ValueError(
                f"config of {config['name']} has no input named '{INPUT_NAME}' "
                f"(inputs: {[t['name'] for t in config['input']]})"
            )
        self.n_features = int(features[0]["dims"][-1])
        options = ort.SessionOptions()
        # Triton runs one stub process per instance; one intra-op thread per instance avoids
        # oversubscribing the host when several instances or models share the CPUs.
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        pb_utils.Logger.log_warn(
            f"LOCAL STAND-IN onnxruntime backend (python, not the official image's backend) "
            f"loaded {model_path}"
        )

    def _validate(self, rows):
        if rows.dtype != np.float32:
            return f"input '{INPUT_NAME}' must be FP32, got {rows.dtype}"
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            return (
                f"input '{INPUT_NAME}' must have shape [batch, {self.n_features}], "
                f"got {list(rows.shape)} (wrong feature count)"
            )
        bad = ~np.isfinite(rows)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            return (
                f"input '{INPUT_NAME}' contains {int(bad.sum())} NaN/Inf value(s), "
                f"first at row {row}, feature {col}"
            )
        return None

    def execute(self, requests):
        """Validate each request, run the valid ones as one batch, and split the result."""
        responses = [None] * len(requests)
        valid, batches = [], []
        for index, request in enumerate(requests):
            tensor = pb_utils.get_input_tensor_by_name(request, INPUT_NAME)
            if tensor is None:
                message = f"missing input '{INPUT_NAME}'"
            else:
                rows = tensor.as_numpy()
                message = self._validate(rows)
            if message is not None:
                responses[index] = pb_utils.InferenceResponse(error=pb_utils.TritonError(message))
                continue
            valid.append(index)
            batches.append(rows)
        if batches:
            # One session.run for all requests the dynamic batcher grouped: that is the point
            # of dynamic batching on CPU.
            sizes = [len(b) for b in batches]
            outputs = self.session.run([OUTPUT_NAME], {INPUT_NAME: np.concatenate(batches)})[0]
            for index, part in zip(valid, np.split(outputs, np.cumsum(sizes)[:-1]), strict=True):
                tensor = pb_utils.Tensor(OUTPUT_NAME, np.ascontiguousarray(part, np.float32))
                responses[index] = pb_utils.InferenceResponse(output_tensors=[tensor])
        return responses

    def finalize(self):
        """Release the ONNX Runtime session."""
        self.session = None
