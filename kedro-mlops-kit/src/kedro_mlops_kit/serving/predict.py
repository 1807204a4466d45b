"""Send rows from a table to the served model and name the predictions.

Columns are matched by name, in the feature order of the served version's contract (read from
the local model repository) or of an explicit ``feature_columns`` list. Command line:
``kedro serving predict --input rows.csv``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kedro_mlops_kit.serving.client import Protocol, TritonClient
from kedro_mlops_kit.serving.contract import ModelSignature, repository_contract
from kedro_mlops_kit.serving.errors import InvalidInputError, ModelRepositoryError
from kedro_mlops_kit.serving.tabular_io import feature_matrix

__all__ = [
    "default_url",
    "parse_feature_columns",
    "predict_frame",
    "predictions_frame",
    "served_contract",
]


def predictions_frame(predictions: np.ndarray, class_labels: Sequence[str] | None) -> pd.DataFrame:
    """Name prediction columns by class label (classification) or ``prediction`` (regression)."""
    labelled = bool(class_labels) and len(class_labels) == predictions.shape[1]
    if labelled:
        columns = [f"p_{label}" for label in class_labels]
    elif predictions.shape[1] == 1:
        columns = ["prediction"]
    else:
        columns = [f"output_{i}" for i in range(predictions.shape[1])]
    frame = pd.DataFrame(predictions, columns=columns)
    if labelled:
        frame["label"] = np.asarray(class_labels, dtype=object)[predictions.argmax(axis=1)]
    return frame


def default_url(protocol: str) -> str:
    """Loopback URL from TRITON_HTTP_PORT / TRITON_GRPC_PORT (what ``serve`` binds)."""
    if protocol == "grpc":
        return f"127.0.0.1:{os.environ.get('TRITON_GRPC_PORT', '8001')}"
    return f"127.0.0.1:{os.environ.get('TRITON_HTTP_PORT', '8000')}"


def parse_feature_columns(text: str) -> list[str]:
    """Parse a JSON list of names (any characters) or a comma-separated list of plain names."""
    text = text.strip()
    if text.startswith("["):
        try:
            names = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"feature columns are not a valid JSON list: {exc}") from exc
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidInputError('feature columns must be a JSON list of strings: ["a", "b"]')
        return names
    return [name.strip() for name in text.split(",") if name.strip()]


def served_contract(client: TritonClient, repository: Path) -> ModelSignature:
    """Contract of the version ``client`` talks to, read from the local ``repository``.

    Without an explicit ``model_version`` Triton serves the highest loaded version.
    """
    version = client.model_version
    if not version:
        versions = client.info().versions
        version = max(versions, key=int) if versions else ""
    return repository_contract(repository, client.model_name, version or None)


def predict_frame(
    frame: pd.DataFrame,
    *,
    model_name: str,
    url: str,
    protocol: Protocol = "http",
    feature_columns: Sequence[str] | None = None,
    repository: Path | None = None,
) -> pd.DataFrame:
    """Predict the rows of ``frame`` on the server; return one named column per output.

    The feature order is ``feature_columns`` if given, else the served version's contract from
    ``repository``. Class labels (``p_<label>`` columns and ``label``) come from the contract.

    Raises:
        ServingError: The server, the repository or the rows are not usable (message says why).
    """
    with TritonClient(url, protocol, model_name) as client:
        if repository is not None:
            try:
                client.contract = served_contract(client, repository)
            except ModelRepositoryError:
                if not feature_columns:
                    raise
            client.info(refresh=True)
        columns = list(feature_columns or client.info().feature_columns)
        if not columns:
            raise InvalidInputError(
                "the feature order is unknown: give the model repository the server serves "
                "from (--model-repository) or the columns (--feature-columns)"
            )
        predictions = client.predict(feature_matrix(frame, columns))
        return predictions_frame(predictions, client.info().class_labels)
