"""Validate a production batch against the training feature schema.

Drift statistics on a malformed batch are meaningless (a renamed column would silently look like
"no data", a string column would crash deep inside alibi-detect), so every batch passes through
``validate_batch`` before detection and fails early with a message a person can act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Re-exported: the file checks live apart so that they import fast (see batch_file.py).
from kedro_mlops_kit.drift.batch_file import (
    CSV_SUFFIXES,
    BatchFormatError,
    SchemaError,
    check_batch_path,
)

__all__ = [
    "BatchFormatError",
    "EmptyBatchError",
    "InfiniteValuesError",
    "MissingColumnsError",
    "MissingValuesError",
    "NonNumericColumnsError",
    "SchemaError",
    "ValidatedBatch",
    "check_batch_path",
    "load_batch",
    "validate_batch",
    "validate_raw_batch",
]


class MissingColumnsError(SchemaError):
    """The batch lacks one or more training feature columns."""

    def __init__(self, missing: Sequence[str], expected: Sequence[str]) -> None:
        self.missing = list(missing)
        self.expected = list(expected)
        super().__init__(
            f"Batch is missing feature column(s) {self.missing}; expected columns: {self.expected}"
        )


class NonNumericColumnsError(SchemaError):
    """One or more feature columns are not numeric."""

    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = dict(columns)
        detail = ", ".join(f"{name!r} (dtype {dtype})" for name, dtype in self.columns.items())
        super().__init__(f"Feature column(s) must be numeric: {detail}")


class EmptyBatchError(SchemaError):
    """The batch has no rows."""


class MissingValuesError(SchemaError):
    """One or more feature columns contain NaN values."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        detail = ", ".join(f"{name!r} ({n} NaN)" for name, n in self.counts.items())
        super().__init__(f"Feature column(s) contain missing values: {detail}")


class InfiniteValuesError(SchemaError):
    """One or more feature columns contain +/-inf."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        detail = ", ".join(f"{name!r} ({n} inf)" for name, n in self.counts.items())
        super().__init__(f"Feature column(s) contain infinite values: {detail}")


@dataclass(frozen=True)
class ValidatedBatch:
    """A batch restricted to the training feature columns, in training order, as numbers.

    ``missing_rates`` (per feature) and ``unseen_share`` (per categorical column: rows whose
    category the reference never had) describe the raw batch before encoding.
    """

    frame: pd.DataFrame
    extra_columns: list[str] = field(default_factory=list)
    missing_rates: dict[str, float] = field(default_factory=dict)
    unseen_share: dict[str, float] = field(default_factory=dict)


def validate_raw_batch(
    batch: pd.DataFrame, bundle: Any, where: str = "The batch"
) -> ValidatedBatch:
    """Check raw production rows against the model's schema, then encode them for ``bundle``.

    A bundle fitted on numeric features only (no encoding) gets :func:`validate_batch`.

    Raises:
        SchemaError: The batch is empty, lacks a feature column, or holds values the schema
            refuses; the message names the columns, a few rows and the fix.
    """
    from kedro_mlops_kit.drift.encoding import missing_rates
    from kedro_mlops_kit.schema import DataValidationError, TableSchema, validate_frame

    if bundle.encoding is None:
        return validate_batch(batch, bundle.feature_columns)
    features = list(bundle.feature_columns)
    if len(batch) == 0:
        raise EmptyBatchError(
            f"{where} is empty: it has a header ({batch.shape[1]} columns) and no rows, so there "
            "is nothing to compare with the reference. Write the batch's rows."
        )
    try:
        schema = TableSchema.from_yaml(bundle.schema_yaml, "the detector's schema")
        raw = validate_frame(batch, schema, where=where, columns=features)
    except DataValidationError as error:
        raise SchemaError(str(error)) from None
    encoded = validate_batch(bundle.encoding.encode(raw), features)
    return ValidatedBatch(
        frame=encoded.frame,
        extra_columns=sorted(str(c) for c in batch.columns if c not in set(features)),
        missing_rates=missing_rates(raw, bundle.encoding.kinds),
        unseen_share=bundle.encoding.unseen_share(raw),
    )


def validate_batch(batch: pd.DataFrame, feature_columns: Sequence[str]) -> ValidatedBatch:
    """Check ``batch`` against the training schema and return only the feature columns.

    Args:
        batch: Raw production rows.
        feature_columns: Training feature columns, in the order the detector expects.

    Returns:
        The batch reduced to ``feature_columns`` (in that order) and the sorted list of extra
        columns that were present but ignored.

    Raises:
        MissingColumnsError: A feature column is absent (all absent ones are named).
        NonNumericColumnsError: A feature column has a non-numeric dtype.
        EmptyBatchError: The batch has no rows.
        MissingValuesError: A feature column contains NaN.
        InfiniteValuesError: A feature column contains +/-inf (it would turn the MMD kernel
            and the report statistics into NaN).
    """
    expected = list(feature_columns)
    present = set(batch.columns)
    missing = [name for name in expected if name not in present]
    if missing:
        raise MissingColumnsError(missing, expected)

    expected_set = set(expected)
    extra = sorted(str(name) for name in batch.columns if name not in expected_set)
    frame = batch.loc[:, expected]

    # bool passes is_numeric_dtype; it is a valid 0/1 encoding, so it is allowed on purpose.
    non_numeric = {
        name: str(frame[name].dtype)
        for name in expected
        if not pd.api.types.is_numeric_dtype(frame[name])
    }
    if non_numeric:
        raise NonNumericColumnsError(non_numeric)

    if frame.empty:
        raise EmptyBatchError("Batch has no rows; nothing to compare against the reference.")

    nan_counts = frame.isna().sum()
    with_nan = {name: int(count) for name, count in nan_counts.items() if count > 0}
    if with_nan:
        raise MissingValuesError(with_nan)

    inf_counts = np.isinf(frame.to_numpy(dtype=np.float64)).sum(axis=0)
    with_inf = {name: int(n) for name, n in zip(expected, inf_counts, strict=True) if n > 0}
    if with_inf:
        raise InfiniteValuesError(with_inf)

    return ValidatedBatch(frame=frame.reset_index(drop=True), extra_columns=extra)


def load_batch(path: str | Path) -> pd.DataFrame:
    """Read a batch from a CSV or Parquet file, chosen by the file suffix.

    Raises:
        BatchFormatError: The file does not exist or its suffix is not supported.
    """
    path = check_batch_path(path)
    if path.suffix.lower() in CSV_SUFFIXES:
        return pd.read_csv(path)
    return pd.read_parquet(path)
