"""A small typed client for the served model over Triton's HTTP or gRPC (KServe v2) API.

The served model takes one input per raw column, named by the column, in its wire type (FP32,
FP64 for datetimes as Unix seconds, BOOL, BYTES for text): :meth:`TritonClient.predict` takes a
DataFrame of raw rows as they come and converts them. Names, data types and the batch limit come
from the server. Class labels and the schema are not in Triton's config (see
:mod:`kedro_mlops_kit.serving.model_config`): pass the exported version's contract, e.g.
``repository_contract(repo, model_name)``, and rows are checked against the schema before they
are sent and outputs are labelled.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
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
from kedro_mlops_kit.serving.model_config import OUTPUT_NAME

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
        """Number of served inputs (one per raw feature column)."""
        return len(self.inputs)

    @property
    def datatypes(self) -> dict[str, str]:
        """Wire data type of each input, by column name."""
        return {t.name: t.datatype for t in self.inputs}


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
        self.url = url
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

    def _no_server(self, error: BaseException) -> ServerNotReadyError:
        return ServerNotReadyError(
            f"no Triton server answers at {self.url} ({self.protocol}): {error}. Start one with "
            "`make serve` (or point TRITON_HTTP_PORT / --url at the running server)."
        )

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
            if "connect" in str(exc).lower() or "unavailable" in str(exc).lower():
                raise self._no_server(exc) from None
            raise ServerNotReadyError(
                f"cannot read metadata of {self.model_name!r}: {exc}"
            ) from exc
        except (ConnectionError, OSError) as exc:
            raise self._no_server(exc) from None

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
            feature_columns=tuple(t["name"] for t in meta["inputs"]),
            task=contract.task if contract else "",
            class_labels=contract.class_labels if contract else None,
        )
        if contract and set(self._info.feature_columns) != set(contract.feature_columns):
            served = self._info.feature_columns
            self._info = None
            raise ModelRepositoryError(
                f"the contract given for {self.model_name!r} lists columns "
                f"{list(contract.feature_columns)} but the served model takes {list(served)}: "
                "pass the contract of the served version"
            )
        return self._info

    def prepare(self, rows: pd.DataFrame | Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Turn raw rows into the served inputs, rejecting what the server would reject.

        ``rows`` is a DataFrame of raw rows (extra columns are ignored; with a contract they are
        checked against the model's schema first), or a mapping of input name to a ``[n, 1]``
        array already in wire form.

        Raises:
            InvalidInputError: Naming the column, the rows and the fix.
        """
        from kedro_mlops_kit.features import to_wire
        from kedro_mlops_kit.schema import DataValidationError, validate_frame

        datatypes = self.info().datatypes
        if isinstance(rows, Mapping):
            missing = [c for c in datatypes if c not in rows]
            if missing:
                raise InvalidInputError(
                    f"inputs {missing} are missing; the model takes {list(datatypes)}"
                )
            inputs = {c: np.asarray(rows[c]).reshape(-1, 1) for c in datatypes}
        elif isinstance(rows, pd.DataFrame):
            try:
                if self.contract is not None:
                    rows = validate_frame(
                        rows,
                        self.contract.schema(),
                        where="The request",
                        columns=list(datatypes),
                    )
                inputs = to_wire(rows, {c: _KIND_OF_WIRE[t] for c, t in datatypes.items()})
            except DataValidationError as error:
                raise InvalidInputError(str(error)) from None
        else:
            raise InvalidInputError(
                f"rows must be a pandas DataFrame (or a mapping of input arrays), got "
                f"{type(rows).__name__}"
            )
        sizes = {len(v) for v in inputs.values()}
        if len(sizes) != 1 or 0 in sizes:
            raise InvalidInputError(f"every input needs the same number (>0) of rows, got {sizes}")
        return inputs

    def predict(self, rows: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """Return float32 predictions ``[n, n_outputs]`` for raw ``rows`` (see :meth:`prepare`).

        Inputs larger than the model's max_batch_size are sent in consecutive chunks, because
        Triton rejects a request above that limit.
        """
        return self.predict_with_versions(rows)[0]

    def predict_with_versions(
        self, rows: pd.DataFrame | Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`predict`, plus the model version that answered each row (as Triton says).

        Chunks of one call may be answered by different versions while a new one rolls out.
        """
        inputs = self.prepare(rows)
        n_rows = len(next(iter(inputs.values())))
        limit = self.info().max_batch_size or n_rows
        parts, versions = [], []
        for i in range(0, n_rows, limit):
            outputs, version = self._infer({c: v[i : i + limit] for c, v in inputs.items()})
            parts.append(outputs)
            versions.append(np.full(len(outputs), version, dtype=object))
        return np.concatenate(parts), np.concatenate(versions)

    def _infer(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, str]:
        datatypes = self.info().datatypes
        infer_inputs = []
        for name, values in inputs.items():
            infer_input = self._module.InferInput(name, list(values.shape), datatypes[name])
            infer_input.set_data_from_numpy(np.ascontiguousarray(values))
            infer_inputs.append(infer_input)
        output = self._module.InferRequestedOutput(OUTPUT_NAME)
        try:
            result = self._client.infer(
                self.model_name,
                infer_inputs,
                model_version=self.model_version,
                outputs=[output],
            )
        except InferenceServerException as exc:
            raise InferenceError(f"Triton rejected the request: {exc.message()}") from exc
        except (ConnectionError, OSError) as exc:
            raise self._no_server(exc) from None
        response = result.get_response()
        # HTTP answers a dict, gRPC a protobuf message; both carry the version that answered.
        version = (
            response.get("model_version", "")
            if isinstance(response, dict)
            else getattr(response, "model_version", "")
        )
        return result.as_numpy(OUTPUT_NAME), str(version)


# The kind whose wire form each served data type is (see kedro_mlops_kit.features).
_KIND_OF_WIRE = {"FP32": "numeric", "FP64": "datetime", "BOOL": "boolean", "BYTES": "categorical"}
