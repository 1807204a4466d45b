"""Validation of the raw table against the schema (``conf/base/schema.yml``)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from kedro_mlops_kit.schema import (
    CATEGORICAL,
    IDENTIFIER,
    PARAMS_FILE,
    SCHEMA_FILE,
    DataValidationError,
    TableSchema,
    looks_like_identifier,
    validate_frame,
)
from kedro_mlops_kit.tasks import CLASSIFICATION

__all__ = ["DataValidationError", "validate_raw_data"]

logger = logging.getLogger(__name__)


def _check_target(data: pd.DataFrame, target: str, task: str) -> None:
    values = data[target]
    if values.notna().sum() == 0:
        raise DataValidationError(
            f"Every value of the target column {target!r} is missing: nothing to learn from. "
            f"Check data_processing.target in {PARAMS_FILE} and the raw file."
        )
    if task == CLASSIFICATION and values.nunique() < 2:
        raise DataValidationError(
            f"The target column {target!r} holds a single class ({values.dropna().iloc[0]!r}): "
            "a classifier needs at least two. Add rows of other classes, or set "
            f"data_processing.task: regression in {PARAMS_FILE} if the target is a quantity."
        )


def _check_cardinality(data: pd.DataFrame, schema: TableSchema) -> None:
    for column in schema.columns_of(CATEGORICAL):
        if looks_like_identifier(data[column]):
            present = data[column].dropna()
            n_unique = present.nunique()
            raise DataValidationError(
                f"Categorical column {column!r} now has {n_unique} distinct values in "
                f"{len(present)} rows: it behaves like an identifier, and one-hot encoding it "
                f"would memorise rows. Set its title to '{IDENTIFIER}' in {SCHEMA_FILE} (or "
                f"data_processing.column_kinds.{column}: {IDENTIFIER} and `make schema "
                "FORCE=1`), or fix the data."
            )


def validate_raw_data(
    data: pd.DataFrame, schema: TableSchema, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Check ``data`` against ``schema``; drop rows without a target; report what happened.

    Args:
        data: Raw table as loaded from the catalog.
        schema: The table schema (``conf/base/schema.yml``).
        params: The ``data_processing`` parameters: ``task``, ``target`` and
            ``drop_missing_target`` (false: a missing target is an error).

    Returns:
        The validated table (schema columns and dtypes, a fresh 0..n-1 index), and the
        validation report (row counts, rows dropped, missing values per column).

    Raises:
        DataValidationError: With a message naming the column, a few rows and the fix.
    """
    target = schema.target
    if params.get("target", target) != target:
        raise DataValidationError(
            f"data_processing.target is {params['target']!r} but {SCHEMA_FILE} marks {target!r} "
            "as the target. Make them agree (edit the schema's titles, or re-infer it with "
            "`make schema FORCE=1`)."
        )
    # Rows without a target are governed by drop_missing_target, not by the schema: a target
    # inferred from a complete table is not nullable, yet new rows without one are dropped.
    relaxed = TableSchema(schema.pandera.update_column(target, nullable=True))
    validated = validate_frame(data, relaxed, where="The raw data")
    _check_target(validated, target, params["task"])
    missing_target = validated[target].isna()
    if missing_target.any() and not params.get("drop_missing_target", True):
        rows = missing_target[missing_target].index.tolist()[:5]
        raise DataValidationError(
            f"{int(missing_target.sum())} row(s) have no target {target!r} (rows {rows}). Fill "
            f"them, or set data_processing.drop_missing_target: true in {PARAMS_FILE}."
        )
    kept = validated.loc[~missing_target, list(schema.kinds)]
    _check_cardinality(kept, schema)
    if missing_target.any():
        logger.warning("Dropped %d row(s) without a target.", int(missing_target.sum()))
    report = {
        "rows_read": len(data),
        "rows_kept": len(kept),
        "rows_dropped_missing_target": int(missing_target.sum()),
        "feature_columns": schema.feature_columns,
        "identifier_columns": schema.columns_of(IDENTIFIER),
        "missing_values": {c: int(kept[c].isna().sum()) for c in schema.feature_columns},
    }
    return kept.reset_index(drop=True), report
