"""Exceptions raised by the serving package, so callers can catch one family."""


class ServingError(Exception):
    """Base class of every error raised by the serving package."""


class ModelContractError(ServingError):
    """The registered model does not honour the training pipeline's contract."""


class ExportVerificationError(ServingError):
    """The exported ONNX graph does not reproduce the PyTorch outputs."""


class ModelRepositoryError(ServingError):
    """The Triton model repository is missing pieces or is in an ambiguous state."""


class TritonNotAvailableError(ServingError):
    """The tritonserver binary (from the nvidia-pytriton wheel) cannot be found or started."""


class PortInUseError(ServingError):
    """A port the server should bind is already taken."""


class ServerNotReadyError(ServingError):
    """The server (or the model) did not become live/ready in time."""


class InvalidInputError(ServingError):
    """The request was rejected client-side before being sent (shape, dtype, NaN)."""


class InferenceError(ServingError):
    """The server answered an inference request with an error."""


class RollbackError(ServingError):
    """A rollback cannot be performed (e.g. there is no previous version)."""
