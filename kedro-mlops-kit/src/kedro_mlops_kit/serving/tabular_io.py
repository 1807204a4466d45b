"""Read tabular rows (CSV or Parquet) and turn them into the model's float32 feature matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kedro_mlops_kit.serving.errors import InvalidInputError


def read_table(path: Path) -> pd.DataFrame:
    """Read a ``.csv`` or ``.parquet``/``.pq`` file into a DataFrame.

    Raises:
        InvalidInputError: The file does not exist or is of another type.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file; give a .csv or .parquet file of rows")
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    raise InvalidInputError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")


def feature_matrix(frame: pd.DataFrame, feature_columns: Sequence[str]) -> np.ndarray:
    """Select ``feature_columns`` by name, in that order, as a C-contiguous float32 matrix.

    Selecting by name (not position) protects against files whose column order differs from the
    training order, a silent and common source of wrong predictions.
    """
    missing = [c for c in feature_columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"input is missing feature columns {missing}")
    try:
        values = frame.loc[:, list(feature_columns)].to_numpy(dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"feature columns must be numeric: {exc}") from exc
    return np.ascontiguousarray(values)
