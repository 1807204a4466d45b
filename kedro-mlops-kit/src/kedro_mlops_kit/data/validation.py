"""Validation of the raw table against the schema (``conf/base/schema.yml``)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from kedro_mlops_kit.schema import (
    CATEGORICAL,
    IDENTIFIER,
    IDENTIFIER_MIN_UNIQUE,
    IDENTIFIER_UNIQUE_SHARE,
    PARAMS_FILE,
    SCHEMA_FILE,
    DataValidationError,
    TableSchema,
    coerce_frame,
    looks_like_identifier,
    validate_frame,
)
from kedro_mlops_kit.table import DerivedTable, Table
from kedro_mlops_kit.tasks import CLASSIFICATION

__all__ = ["DataValidationError", "validate_raw_data"]

logger = logging.getLogger(__name__)


def _check_target(labelled: int, classes: list[Any], target: str, task: str) -> None:
    """Refuse a target with no value (``labelled`` rows have one) or a single class."""
    if labelled == 0:
        raise DataValidationError(
            f"Every value of the target column {target!r} is missing: nothing to learn from. "
            f"Check data_processing.target in {PARAMS_FILE} and the raw file."
        )
    if task == CLASSIFICATION and len(classes) < 2:
        raise DataValidationError(
            f"The target column {target!r} holds a single class ({classes[0]!r}): "
            "a classifier needs at least two. Add rows of other classes, or set "
            f"data_processing.task: regression in {PARAMS_FILE} if the target is a quantity."
        )


def _check_cardinality(data: pd.DataFrame, schema: TableSchema) -> None:
    for column in schema.columns_of(CATEGORICAL):
        if looks_like_identifier(data[column]):
            present = data[column].dropna()
            _cardinality_error(column, present.nunique(), len(present))


def _cardinality_error(column: str, n_unique: int, n_present: int) -> None:
    raise DataValidationError(
        f"Categorical column {column!r} now has {n_unique} distinct values in "
        f"{n_present} rows: it behaves like an identifier, and one-hot encoding it "
        f"would memorise rows. Set its title to '{IDENTIFIER}' in {SCHEMA_FILE} (or "
        f"data_processing.column_kinds.{column}: {IDENTIFIER} and `make schema "
        "FORCE=1`), or fix the data."
    )


def validate_raw_data(
    data: pd.DataFrame | Table, schema: TableSchema, params: dict[str, Any]
) -> tuple[pd.DataFrame | Table, dict[str, Any]]:
    """Check ``data`` against ``schema``; drop rows without a target; report what happened.

    A :class:`~kedro_mlops_kit.table.Table` (the catalog's ``TableDataset``) is checked a
    chunk at a time and comes back as a table that yields the validated rows when read, so a
    table larger than memory is never held whole.

    Args:
        data: Raw table as loaded from the catalog (a Table or a DataFrame).
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
    if isinstance(data, Table):
        if not data.fits_in_one_chunk():
            return _validate_table(data, relaxed, params)
        data = data.to_pandas()
    validated = validate_frame(data, relaxed, where="The raw data")
    labels = validated[target].dropna()
    _check_target(len(labels), labels.unique().tolist(), target, params["task"])
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


def _validate_table(
    data: Table, schema: TableSchema, params: dict[str, Any]
) -> tuple[Table, dict[str, Any]]:
    """Validate ``data`` chunk by chunk; return the validated rows (lazily) and the report.

    One pass checks every chunk (row numbers in messages count from the table's first row)
    and gathers the report's counts; the returned table re-reads the source and only casts
    and filters each chunk, since its rows have passed.
    """
    target, task = schema.target, params["task"]
    categorical = schema.columns_of(CATEGORICAL)
    rows_read = dropped = labelled = 0
    missing = dict.fromkeys(schema.feature_columns, 0)
    classes: set[Any] = set()
    distinct: dict[str, set[Any]] = {c: set() for c in categorical}
    present = dict.fromkeys(categorical, 0)
    for part in data.chunks():
        # Row numbers in messages count from the table's first row, not the chunk's.
        chunk = part.set_axis(pd.RangeIndex(rows_read, rows_read + len(part)))
        rows_read += len(chunk)
        validated = validate_frame(chunk, schema, where="The raw data")
        has_target = validated[target].notna()
        if not has_target.all() and not params.get("drop_missing_target", True):
            rows = has_target[~has_target].index.tolist()[:5]
            raise DataValidationError(
                f"Row(s) {rows} have no target {target!r}. Fill them, or set "
                f"data_processing.drop_missing_target: true in {PARAMS_FILE}."
            )
        kept = validated.loc[has_target]
        dropped += int((~has_target).sum())
        labelled += len(kept)
        if task == CLASSIFICATION and len(classes) < 2:
            classes.update(kept[target].unique().tolist())
        for column in missing:
            missing[column] += int(kept[column].isna().sum())
        for column in categorical:
            values = kept[column].dropna()
            present[column] += len(values)
            distinct[column].update(values.unique().tolist())
    if rows_read == 0:
        raise DataValidationError("The raw data is empty: it has no rows. Write at least one row.")
    _check_target(labelled, sorted(classes, key=str), target, task)
    for column in categorical:
        n_unique = len(distinct[column])
        if (
            n_unique > IDENTIFIER_MIN_UNIQUE
            and n_unique > IDENTIFIER_UNIQUE_SHARE * present[column]
        ):
            _cardinality_error(column, n_unique, present[column])
    if dropped:
        logger.warning("Dropped %d row(s) without a target.", dropped)
    report = {
        "rows_read": rows_read,
        "rows_kept": labelled,
        "rows_dropped_missing_target": dropped,
        "feature_columns": schema.feature_columns,
        "identifier_columns": schema.columns_of(IDENTIFIER),
        "missing_values": missing,
    }
    columns = list(schema.kinds)

    def clean(chunk: pd.DataFrame, index: int) -> pd.DataFrame:
        frame = coerce_frame(chunk, schema)
        return frame.loc[frame[target].notna(), columns].reset_index(drop=True)

    return DerivedTable(data, clean, columns), report
