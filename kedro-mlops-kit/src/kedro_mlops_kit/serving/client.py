"""A small typed client for the served model over Triton's HTTP or gRPC (KServe v2) API.

Shapes, data types and the batch limit come from the server. The feature names and class labels
are not in Triton's config (see :mod:`kedro_mlops_kit.serving.model_config`): pass the exported
version's contract, e.g. ``repository_contract(repo, model_name)``, to get them in ``info()``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from kedro_mlops_kit.serving.contract import ModelSignature
from kedro_mlops_kit.serving.errors import (
    InferenceError,
    InvalidInputError,
    ModelRepositoryError,
    ServerNotReadyError,
)
from kedro_mlops_kit.serving.model_config import INPUT_NAME, OUTPUT_NAME

Protocol = Literal["http", "grpc"]


@dataclass(frozen=True)
class TensorSpec:
    """Name, KServe datatype and shape (-1 = variable) of a model input or output."""

    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelInfo:
    """Metadata and config facts of the served model, plus its contract when one was given."""

    name: str
    versions: tuple[str, ...]
    platform: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    max_batch_size: int
    feature_columns: tuple[str, ...]
    task: str
    class_labels: tuple[str, ...] | None

    @property
    def n_features(self) -> int:
        """Number of features the ``features`` input expects (-1: any, per the server)."""
        width = next(t.shape[-1] for t in self.inputs if t.name == INPUT_NAME)
        if width < 0 and self.feature_columns:
            return len(self.feature_columns)
        return width


class TritonClient:
    """Typed access to one model on one Triton server.

    ``url`` is ``host:port`` of the HTTP or gRPC endpoint, matching ``protocol``. Requests without
    ``model_version`` go to the highest loaded version (the champion, see rollback).
    ``contract`` (the exported version's :class:`ModelSignature`) supplies feature names, task
    and class labels to :meth:`info`; without it they are empty.
    """

    def __init__(
        self,
        url: str,
        protocol: Protocol,
        model_name: str,
        model_version: str = "",
        timeout: float = 30.0,
        contract: ModelSignature | None = None,
    ) -> None:
        if protocol not in ("http", "grpc"):
            raise ValueError(f"protocol must be 'http' or 'grpc', got {protocol!r}")
        self.protocol = protocol
        self.model_name = model_name
        self.model_version = model_version
        self.timeout = timeout
        self.contract = contract
        self._module = httpclient if protocol == "http" else grpcclient
        if protocol == "http":
            self._client = httpclient.InferenceServerClient(
                url, connection_timeout=timeout, network_timeout=timeout
            )
        else:
            self._client = grpcclient.InferenceServerClient(url)
        self._info: ModelInfo | None = None

    def close(self) -> None:
        """Close the underlying connection(s)."""
        self._client.close()

    def __enter__(self) -> TritonClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def is_live(self) -> bool:
        """Whether the server process answers its liveness endpoint."""
        try:
            return bool(self._client.is_server_live())
        except (InferenceServerException, ConnectionError, OSError):
            return False

    def is_ready(self) -> bool:
        """Whether the server and this model are ready for inference."""
        try:
            return bool(
                self._client.is_server_ready()
                and self._client.is_model_ready(self.model_name, self.model_version)
            )
        except (InferenceServerException, ConnectionError, OSError):
            return False

    def wait_until_ready(self, timeout: float = 60.0, interval: float = 0.2) -> None:
        """Poll readiness until ``timeout`` seconds; raise ``ServerNotReadyError`` after it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready():
                return
            time.sleep(interval)
        raise ServerNotReadyError(f"model {self.model_name!r} not ready after {timeout:.0f}s")

    def info(self, refresh: bool = False) -> ModelInfo:
        """Model metadata plus the config facts (batch limit, feature order); cached."""
        if self._info is not None and not refresh:
            return self._info
        try:
            if self.protocol == "http":
                meta = self._client.get_model_metadata(self.model_name, self.model_version)
                config = self._client.get_model_config(self.model_name, self.model_version)
            else:
                meta = self._client.get_model_metadata(
                    self.model_name, self.model_version, as_json=True
                )
                config = self._client.get_model_config(
                    self.model_name, self.model_version, as_json=True
                )["config"]
        except InferenceServerException as exc:
            raise ServerNotReadyError(
                f"cannot read metadata of {self.model_name!r}: {exc}"
            ) from exc

        def specs(items: list[dict]) -> tuple[TensorSpec, ...]:
            return tuple(
                TensorSpec(t["name"], t["datatype"], tuple(int(d) for d in t["shape"]))
                for t in items
            )

        contract = self.contract
        self._info = ModelInfo(
            name=meta["name"],
            versions=tuple(meta.get("versions", ())),
            platform=meta.get("platform", ""),
            inputs=specs(meta["inputs"]),
            outputs=specs(meta["outputs"]),
            # gRPC's JSON omits zero-valued fields; 0 means "no batching" in Triton.
            max_batch_size=int(config.get("max_batch_size", 0)),
            feature_columns=contract.feature_columns if contract else (),
            task=contract.task if contract else "",
            class_labels=contract.class_labels if contract else None,
        )
        served = self._info.n_features
        if contract and served >= 0 and served != contract.n_features:
            self._info = None
            raise ModelRepositoryError(
                f"the contract given for {self.model_name!r} lists {contract.n_features} features "
                f"but the served model takes {served}: pass the contract of the served version"
            )
        return self._info

    def validate(self, rows: np.ndarray) -> None:
        """Reject input the server would reject, before paying for a round trip."""
        if not isinstance(rows, np.ndarray):
            raise InvalidInputError(f"rows must be a numpy array, got {type(rows).__name__}")
        if rows.dtype != np.float32:
            raise InvalidInputError(
                f"rows must be float32, got {rows.dtype}; use rows.astype(np.float32)"
            )
        n_features = self.info().n_features
        wrong_width = n_features >= 0 and rows.ndim == 2 and rows.shape[1] != n_features
        if rows.ndim != 2 or rows.shape[0] == 0 or wrong_width:
            raise InvalidInputError(
                f"rows must have shape [n>0, {n_features}], got {list(rows.shape)}"
            )
        if not np.isfinite(rows).all():
            bad = np.argwhere(~np.isfinite(rows))[0]
            raise InvalidInputError(f"rows contain NaN/Inf, first at row {bad[0]}, col {bad[1]}")

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Return float32 predictions [n, n_outputs] for float32 ``rows`` [n, n_features].

        Inputs larger than the model's max_batch_size are sent in consecutive chunks, because
        Triton rejects a request above that limit.
        """
        self.validate(rows)
        limit = self.info().max_batch_size or len(rows)
        parts = [self._infer(rows[i : i + limit]) for i in range(0, len(rows), limit)]
        return np.concatenate(parts)

    def _infer(self, rows: np.ndarray) -> np.ndarray:
        infer_input = self._module.InferInput(INPUT_NAME, list(rows.shape), "FP32")
        infer_input.set_data_from_numpy(np.ascontiguousarray(rows))
        output = self._module.InferRequestedOutput(OUTPUT_NAME)
        try:
            result = self._client.infer(
                self.model_name,
                [infer_input],
                model_version=self.model_version,
                outputs=[output],
            )
        except InferenceServerException as exc:
            raise InferenceError(f"Triton rejected the request: {exc.message()}") from exc
        return result.as_numpy(OUTPUT_NAME)
