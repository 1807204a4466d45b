"""Read tabular rows (CSV or Parquet)."""

from __future__ import annotations

from pathlib import Path

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
