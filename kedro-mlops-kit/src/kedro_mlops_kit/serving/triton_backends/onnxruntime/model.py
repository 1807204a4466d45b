"""LOCAL STAND-IN for the official Triton image's ``onnxruntime`` backend.

The nvidia-pytriton wheel ships the real ``tritonserver`` but only the Python backend. Installed
as ``<backend-dir>/onnxruntime/model.py``, this file becomes a Python-based backend named
``onnxruntime``, so the unchanged production ``config.pbtxt`` (``backend: "onnxruntime"``) and
``<version>/model.onnx`` load locally. It runs the graph with the onnxruntime Python package.
It is NOT used in production: the official image's C++ onnxruntime backend replaces it there.

Like the production backend it auto-completes the config: a ``config.pbtxt`` without
``input``/``output`` blocks gets them from the version's ``model.onnx`` (names, data types,
dims), and it answers a request missing an input or sending the wrong data type with an error
naming the input.
"""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

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
        """Load the version folder's model.onnx and the inputs it expects."""
        config = json.loads(args["model_config"])
        model_path = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        options = ort.SessionOptions()
        # Triton runs one stub process per instance; one intra-op thread per instance avoids
        # oversubscribing the host when several instances or models share the CPUs.
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {t.name: t.type for t in self.session.get_inputs()}
        declared = {t["name"] for t in config["input"]}
        if declared != set(self.inputs):
            raise ValueError(
                f"config of {config['name']} declares inputs {sorted(declared)} but "
                f"{model_path} takes {sorted(self.inputs)}"
            )
        pb_utils.Logger.log_warn(
            f"LOCAL STAND-IN onnxruntime backend (python, not the official image's backend) "
            f"loaded {model_path}"
        )

    def _read(self, request):
        """Return ``({name: array}, None)`` or ``(None, error message)`` for one request."""
        arrays = {}
        for name, onnx_type in self.inputs.items():
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is None:
                return None, f"missing input '{name}' (the model takes {list(self.inputs)})"
            values = tensor.as_numpy()
            if onnx_type == "tensor(string)":
                if values.dtype != np.object_:
                    return None, f"input '{name}' must be BYTES (text), got {values.dtype}"
                values = np.array(
                    [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values.ravel()],
                    dtype=object,
                ).reshape(values.shape)
            elif values.dtype != _NUMPY_OF_ONNX[onnx_type]:
                expected = ORT_TO_TRITON[onnx_type].removeprefix("TYPE_")
                return None, f"input '{name}' must be {expected}, got {values.dtype}"
            arrays[name] = values
        sizes = {len(v) for v in arrays.values()}
        if len(sizes) != 1:
            return None, f"inputs have different batch sizes {sorted(sizes)}"
        return arrays, None

    def execute(self, requests):
        """Check each request, run the valid ones as one batch, and split the result."""
        responses = [None] * len(requests)
        valid, batches = [], []
        for index, request in enumerate(requests):
            arrays, message = self._read(request)
            if message is not None:
                responses[index] = pb_utils.InferenceResponse(error=pb_utils.TritonError(message))
                continue
            valid.append(index)
            batches.append(arrays)
        if batches:
            # One session.run for all requests the dynamic batcher grouped: that is the point
            # of dynamic batching on CPU.
            sizes = [len(next(iter(b.values()))) for b in batches]
            feed = {name: np.concatenate([b[name] for b in batches]) for name in self.inputs}
            outputs = self.session.run([OUTPUT_NAME], feed)[0]
            for index, part in zip(valid, np.split(outputs, np.cumsum(sizes)[:-1]), strict=True):
                tensor = pb_utils.Tensor(OUTPUT_NAME, np.ascontiguousarray(part, np.float32))
                responses[index] = pb_utils.InferenceResponse(output_tensors=[tensor])
        return responses

    def finalize(self):
        """Release the ONNX Runtime session."""
        self.session = None


_NUMPY_OF_ONNX = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(bool)": np.bool_,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}
