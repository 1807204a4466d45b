"""Send rows from a table to the served model and name the predictions.

Columns are matched by name (the served model takes one input per raw column); rows are checked
against the schema in the served version's contract (read from the local model repository)
before they are sent. Command line: ``kedro serving predict --input rows.csv``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kedro_mlops_kit.serving.client import Protocol, TritonClient
from kedro_mlops_kit.serving.contract import ModelSignature, repository_contract
from kedro_mlops_kit.serving.errors import ModelRepositoryError

__all__ = [
    "default_url",
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
    repository: Path | None = None,
) -> pd.DataFrame:
    """Predict the raw rows of ``frame`` on the server; return one named column per output.

    With ``repository`` (the served model repository), rows are checked against the served
    version's schema first, and class labels name the ``p_<label>`` columns and ``label``.

    Raises:
        ServingError: The server, the repository or the rows are not usable (message says why).
    """
    with TritonClient(url, protocol, model_name) as client:
        if repository is not None:
            try:
                client.contract = served_contract(client, repository)
            except ModelRepositoryError:
                client.contract = None
            client.info(refresh=True)
        predictions = client.predict(frame)
        return predictions_frame(predictions, client.info().class_labels)
