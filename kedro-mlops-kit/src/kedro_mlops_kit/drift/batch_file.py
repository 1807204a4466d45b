"""Which batch files the drift job reads, checked without importing numpy or pandas.

Kept apart from :mod:`.schema` (pandas takes seconds to import) so that the command line
refuses a mistyped path or an unsupported format at once, before Kedro starts.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "BatchFormatError",
    "SchemaError",
    "check_batch_path",
]

CSV_SUFFIXES = frozenset({".csv"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})


class SchemaError(ValueError):
    """Base class for every reason a batch cannot be checked for drift."""


class BatchFormatError(SchemaError):
    """The batch file cannot be read (unknown suffix, absent file)."""


def check_batch_path(path: str | Path) -> Path:
    """Return ``path`` if it names an existing CSV or Parquet file, without reading it.

    Raises:
        BatchFormatError: The file does not exist or its suffix is not supported.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | PARQUET_SUFFIXES:
        supported = sorted(CSV_SUFFIXES | PARQUET_SUFFIXES)
        raise BatchFormatError(
            f"Unsupported batch file {str(path)!r}: suffix {suffix!r} is not one of {supported}"
        )
    if not path.is_file():
        raise BatchFormatError(f"Batch file {str(path)!r} does not exist")
    return path
