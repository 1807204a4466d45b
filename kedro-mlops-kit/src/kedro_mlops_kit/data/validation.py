"""Validation of the raw table against the schema declared in the parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PARAMS_FILE = "conf/base/parameters_data_processing.yml"
# Writes the bundled default dataset over the raw file.
DEFAULT_DATA_COMMAND = "kedro data default"


class DataValidationError(ValueError):
    """Raised when the raw data does not match the declared schema; the message says the fix."""


def resolve_feature_columns(columns: list[str], params: dict[str, Any]) -> list[str]:
    """Return the declared feature columns, or every column but the target when null."""
    declared = params.get("feature_columns")
    if declared is None:
        return [c for c in columns if c != params["target"]]
    return list(declared)


def _check_not_empty(data: pd.DataFrame) -> None:
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise DataValidationError(
            f"Raw dataset is empty ({data.shape[0]} rows, {data.shape[1]} columns). "
            "Write data/01_raw/dataset.csv with a header and at least one row, or the bundled "
            f"default dataset with `{DEFAULT_DATA_COMMAND}` (`make raw-data` writes it and "
            "tracks it with DVC when the file is absent)."
        )


def _check_columns_exist(data: pd.DataFrame, params: dict[str, Any], features: list[str]) -> None:
    available = list(data.columns)
    target = params["target"]
    if target not in data.columns:
        raise DataValidationError(
            f"Target column '{target}' is missing from the raw data. Set data_processing.target "
            f"in {PARAMS_FILE} to one of {available}, or add the column to the file."
        )
    if not features:
        raise DataValidationError(
            f"No feature columns. Set data_processing.feature_columns in {PARAMS_FILE} to a "
            "non-empty list, or to null to use every column but the target."
        )
    for column in features:
        if column not in data.columns:
            raise DataValidationError(
                f"Feature column '{column}' is missing from the raw data. Remove it from "
                f"data_processing.feature_columns in {PARAMS_FILE} (or set that to null to use "
                f"every column but the target), or add it to the file. Available: {available}."
            )
        if column == target:
            raise DataValidationError(
                f"Column '{column}' is both the target and a feature. Remove it from "
                f"data_processing.feature_columns in {PARAMS_FILE}."
            )


def _check_feature_types(data: pd.DataFrame, params: dict[str, Any], features: list[str]) -> None:
    categorical = params.get("categorical_columns") or []
    for column in categorical:
        if column not in features:
            raise DataValidationError(
                f"Categorical column '{column}' is not a feature column. Add it to "
                f"data_processing.feature_columns or remove it from categorical_columns in "
                f"{PARAMS_FILE}."
            )
    for column in features:
        # Booleans would silently become 0/1 features; require an explicit numeric encoding.
        if not pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(
            data[column]
        ):
            raise DataValidationError(
                f"Feature column '{column}' is not numeric (dtype {data[column].dtype}). "
                "Map string categories to integer codes in the raw file and list the column "
                f"under data_processing.categorical_columns in {PARAMS_FILE}, or drop it from "
                "feature_columns."
            )
    for column in categorical:
        values = data[column].dropna().to_numpy(dtype=float)
        if not np.array_equal(values, np.round(values)):
            raise DataValidationError(
                f"Categorical column '{column}' holds non-integer values. Encode its "
                "categories as integer codes (0, 1, 2, ...) in the raw file."
            )


def _check_missing_values(data: pd.DataFrame, target: str, features: list[str]) -> None:
    n_missing_target = int(data[target].isna().sum())
    if n_missing_target:
        raise DataValidationError(
            f"Target column '{target}' has {n_missing_target} missing (NaN) value(s). Drop "
            "those rows or fill the target before writing the raw file."
        )
    for column in features:
        n_missing = int(data[column].isna().sum())
        if n_missing:
            raise DataValidationError(
                f"Feature column '{column}' has {n_missing} missing (NaN) value(s). Impute or "
                "drop them before writing the raw file; the model does not accept NaN inputs."
            )


def validate_raw_data(data: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Check ``data`` against the declared schema and keep only target and feature columns.

    Args:
        data: Raw table as loaded from the catalog.
        params: The ``data_processing`` parameters (target, feature_columns, categorical_columns).

    Returns:
        The table restricted to ``feature_columns`` (in declared order) plus the target.

    Raises:
        DataValidationError: With a message naming the column and the fix.
    """
    _check_not_empty(data)
    features = resolve_feature_columns(list(data.columns), params)
    _check_columns_exist(data, params, features)
    _check_feature_types(data, params, features)
    _check_missing_values(data, params["target"], features)
    return data[[*features, params["target"]]].reset_index(drop=True)
