"""Nodes of the data_processing pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro_mlops_kit.data.splits import split_table
from kedro_mlops_kit.data.validation import validate_raw_data
from kedro_mlops_kit.preprocessor import Preprocessor, fit_preprocessor
from kedro_mlops_kit.schema import TableSchema
from kedro_mlops_kit.table import Table

__all__ = ["fit_features", "split_data", "validate_raw_data"]


def split_data(
    data: Table | pd.DataFrame, schema: TableSchema, params: dict[str, Any]
) -> tuple[Table | pd.DataFrame, ...]:
    """Split into train / validation / test (``data_processing.split``).

    ``strategy: random`` (default) is stratified on the target for classification; ``time``
    trains on the past and tests on the latest rows of ``split.column``; ``group`` keeps every
    value of ``split.column`` (e.g. a customer id) in one split. A table of several chunks is
    split a chunk at a time (see ``kedro_mlops_kit.data.splits``).

    Args:
        data: Validated table.
        schema: The table schema (``conf/base/schema.yml``).
        params: The ``data_processing`` parameters.

    Returns:
        Train, validation and test tables, each with a fresh 0..n-1 index.
    """
    return split_table(data, schema, params)


def fit_features(
    train: Table | pd.DataFrame, schema: TableSchema, params: dict[str, Any]
) -> Preprocessor:
    """Fit the preprocessing on the training split only.

    Numbers are imputed (with a missing indicator) and standardised, categories one-hot encoded
    with ``missing`` and ``unknown`` buckets and a frequency cap, dates split into parts, as
    ``data_processing.features`` says (fitted on at most ``features.fit_rows`` rows drawn at
    random). The same fitted object encodes rows for training, and becomes the front of the
    served ONNX graph.

    Args:
        train: Training split produced by :func:`split_data`.
        schema: The table schema.
        params: The ``data_processing`` parameters.

    Returns:
        The fitted preprocessing.
    """
    return fit_preprocessor(train, schema, params)
