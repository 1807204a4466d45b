"""Tables read a chunk at a time, so that no stage holds a whole large table in memory.

The project's catalog loads its raw data and its splits through :class:`TableDataset`: a
table larger than one chunk comes as a :class:`Table`, a handle on a Parquet or CSV file that
yields pandas chunks (a smaller one simply as a DataFrame). Parquet
splits are written in row groups of ``chunk_rows`` rows, and a row group is read back on its
own, so training can visit chunks in a random order. Every function of the kit that takes a
table accepts a pandas DataFrame as well (tests, notebooks, small data), so ``len(table)``,
``table[column]`` (one column, read alone) and ``table.sample(n, random_state=...)`` behave
as they do on a DataFrame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from kedro.io import AbstractDataset, DatasetError

__all__ = [
    "CHUNK_ROWS",
    "CsvTable",
    "DerivedTable",
    "ParquetTable",
    "Table",
    "TableDataset",
    "iter_chunks",
    "sample_rows",
]

#: Rows per chunk (and per Parquet row group): about 150 MB for 30 mixed columns.
CHUNK_ROWS = 262_144


class Table:
    """A table on disk, read as a sequence of pandas chunks (subclasses say how)."""

    chunk_rows: int = CHUNK_ROWS

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Yield the rows in order, a chunk at a time (only ``columns`` when given)."""
        raise NotImplementedError

    @property
    def num_chunks(self) -> int | None:
        """How many chunks :meth:`chunk` can read by number (None: only in order)."""
        return None

    def chunk(self, index: int, columns: list[str] | None = None) -> pd.DataFrame:
        """Read chunk ``index`` alone (tables with a :attr:`num_chunks`)."""
        raise TypeError(f"{self!r} is read in order only")

    @property
    def columns(self) -> list[str]:
        """Column names."""
        raise NotImplementedError

    def fits_in_one_chunk(self) -> bool:
        """Whether the whole table is one chunk (then it is simply read into memory)."""
        if self.num_chunks is not None:
            return self.num_chunks <= 1
        parts = self.chunks(columns=self.columns[:1])
        next(parts, None)
        return next(parts, None) is None

    def __len__(self) -> int:
        """Count the rows (one pass where the file does not say)."""
        return sum(len(c) for c in self.chunks(columns=self.columns[:1]))

    def __getitem__(self, column: str) -> pd.Series:
        """One whole column, read alone."""
        if column not in self.columns:
            raise KeyError(column)
        parts = list(self.chunks(columns=[column]))
        return pd.concat(parts, ignore_index=True)[column] if parts else pd.Series(name=column)

    def to_pandas(self) -> pd.DataFrame:
        """Read the whole table into memory (small tables only)."""
        parts = list(self.chunks())
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=self.columns)

    def sample(self, n: int, random_state: int = 0) -> pd.DataFrame:
        """About ``n`` rows drawn uniformly at random in one pass (all rows when fewer)."""
        return sample_rows(self, n, random_state)


class ParquetTable(Table):
    """A Parquet file; each row group is a chunk, readable on its own."""

    def __init__(self, path: str | Path) -> None:
        """Open ``path`` (nothing is read until chunks are asked for)."""
        self.path = Path(path)
        self._meta = pq.ParquetFile(self.path).metadata

    def __repr__(self) -> str:
        """Name the file."""
        return f"ParquetTable({str(self.path)!r}, rows={len(self)})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the path only (the metadata is re-read)."""
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Re-open the file."""
        self.__init__(state["path"])

    def __len__(self) -> int:
        """Return the number of rows, from the file's footer."""
        return self._meta.num_rows

    @property
    def columns(self) -> list[str]:
        """Column names, from the file's footer."""
        return list(self._meta.schema.to_arrow_schema().names)

    @property
    def num_chunks(self) -> int:
        """Number of row groups."""
        return self._meta.num_row_groups

    def chunk(self, index: int, columns: list[str] | None = None) -> pd.DataFrame:
        """Read row group ``index``."""
        return pq.ParquetFile(self.path).read_row_group(index, columns=columns).to_pandas()

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Yield the row groups in order."""
        file = pq.ParquetFile(self.path)
        for index in range(file.metadata.num_row_groups):
            yield file.read_row_group(index, columns=columns).to_pandas()


class CsvTable(Table):
    """A CSV file read ``chunk_rows`` rows at a time with pandas."""

    def __init__(
        self, path: str | Path, chunk_rows: int = CHUNK_ROWS, load_args: dict | None = None
    ) -> None:
        """Read ``path`` with ``pandas.read_csv(**load_args)`` when chunks are asked for."""
        self.path = Path(path)
        self.chunk_rows = chunk_rows
        self.load_args = dict(load_args or {})

    def __repr__(self) -> str:
        """Name the file."""
        return f"CsvTable({str(self.path)!r})"

    @property
    def columns(self) -> list[str]:
        """Column names, from the header."""
        return list(pd.read_csv(self.path, nrows=0, **self.load_args).columns)

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Yield ``chunk_rows`` rows at a time, with a 0-based row index across chunks."""
        with pd.read_csv(
            self.path, chunksize=self.chunk_rows, usecols=columns, **self.load_args
        ) as reader:
            yield from reader


class DerivedTable(Table):
    """Another table with a function applied to each chunk (lazily, whenever it is read).

    ``function(chunk, index)`` gets each source chunk and its number and returns the new chunk
    (fewer rows, other dtypes); the kit uses it for validated rows and for each split.
    """

    def __init__(
        self,
        source: Table,
        function: Callable[[pd.DataFrame, int], pd.DataFrame],
        columns: list[str],
    ) -> None:
        """Derive from ``source``; ``columns`` are the derived chunks' columns."""
        self.source = source
        self.function = function
        self._columns = list(columns)
        self.chunk_rows = source.chunk_rows

    def __repr__(self) -> str:
        """Name the source."""
        return f"DerivedTable({self.source!r})"

    @property
    def columns(self) -> list[str]:
        """Column names of the derived chunks."""
        return self._columns

    @property
    def num_chunks(self) -> int | None:
        """As many as the source."""
        return self.source.num_chunks

    def chunk(self, index: int, columns: list[str] | None = None) -> pd.DataFrame:
        """Derive chunk ``index``."""
        out = self.function(self.source.chunk(index), index)
        return out if columns is None else out[columns]

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Derive every chunk in order (the function sees whole source chunks)."""
        for index, part in enumerate(self.source.chunks()):
            out = self.function(part, index)
            yield out if columns is None else out[columns]

    def __len__(self) -> int:
        """Count the derived rows (one pass)."""
        return sum(len(c) for c in self.chunks())


def iter_chunks(
    data: pd.DataFrame | Table, chunk_rows: int = CHUNK_ROWS, columns: list[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Yield ``data`` a chunk at a time, whether it is a DataFrame or a :class:`Table`."""
    if isinstance(data, Table):
        yield from data.chunks(columns=columns)
        return
    frame = data if columns is None else data[columns]
    for start in range(0, len(frame), chunk_rows):
        yield frame.iloc[start : start + chunk_rows]


def sample_rows(data: pd.DataFrame | Table, n: int, seed: int = 0) -> pd.DataFrame:
    """About ``n`` rows of ``data`` drawn uniformly at random, in one pass over its chunks.

    Each row is kept with probability ``n / len(data)`` (a Bernoulli sample: no second pass and
    no reservoir to hold), so the result has ``n`` rows give or take a few; a table of at most
    ``n`` rows is returned whole. The same seed draws the same rows.
    """
    if not isinstance(data, Table):
        return data if len(data) <= n else data.sample(n, random_state=seed)
    total = len(data)
    if total <= n:
        return data.to_pandas()
    rng = np.random.default_rng(seed)
    keep = n / total
    parts = [chunk[rng.random(len(chunk)) < keep] for chunk in data.chunks()]
    return pd.concat(parts, ignore_index=True)


def _arrow_schema(frame: pd.DataFrame) -> pa.Schema:
    # A text column that is empty in the first chunk has Arrow type null; later chunks carry
    # strings, so such columns are declared as strings from the start.
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(schema):
        if pa.types.is_null(field.type):
            schema = schema.set(i, pa.field(field.name, pa.string()))
    return schema


def write_parquet(
    chunks: Iterator[pd.DataFrame],
    path: Path,
    chunk_rows: int = CHUNK_ROWS,
    writer_args: dict[str, Any] | None = None,
) -> int:
    """Write ``chunks`` to ``path`` in row groups of at most ``chunk_rows``; return the rows.

    ``writer_args`` go to ``pyarrow.parquet.ParquetWriter`` (``compression: gzip``, ...). The
    file appears only when complete (written next to it, then renamed), so a failure leaves
    the previous version in place.
    """
    writer_args = dict(writer_args or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    writer, rows, columns = None, 0, None
    try:
        for chunk in chunks:
            columns = list(chunk.columns)
            if chunk.empty:
                continue
            if writer is None:
                writer = pq.ParquetWriter(partial, _arrow_schema(chunk), **writer_args)
            table = pa.Table.from_pandas(chunk, schema=writer.schema, preserve_index=False)
            writer.write_table(table, row_group_size=chunk_rows)
            rows += len(chunk)
        if writer is None:  # no rows: still a file, with the columns
            empty = pa.Table.from_pandas(pd.DataFrame(columns=columns or []))
            pq.write_table(empty, partial, **writer_args)
    except BaseException:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
        raise
    if writer is not None:
        writer.close()
    os.replace(partial, path)
    return rows


class TableDataset(AbstractDataset[pd.DataFrame | Table, pd.DataFrame | Table]):
    """Kedro dataset of a table read in chunks: ``.parquet`` (read and written) or ``.csv``.

    ``load`` returns a :class:`Table` (nothing is read yet), or a pandas DataFrame when the file
    fits in one chunk, so that nodes written for DataFrames keep working on tables of ordinary
    size; ``save`` takes a DataFrame or a :class:`Table` and writes Parquet row groups of
    ``chunk_rows`` rows, one chunk in memory at a time. Catalog entry::

        train_set:
          type: kedro_mlops_kit.table.TableDataset
          filepath: data/05_model_input/train.parquet
    """

    def __init__(
        self,
        filepath: str,
        chunk_rows: int = CHUNK_ROWS,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Point at ``filepath``.

        ``load_args`` go to ``pandas.read_csv`` (CSV files); ``save_args`` to
        ``pyarrow.parquet.ParquetWriter`` (e.g. ``{compression: gzip}``).
        """
        self._filepath = Path(filepath)
        self._chunk_rows = int(chunk_rows)
        self._load_args = dict(load_args or {})
        self._save_args = dict(save_args or {})
        self.metadata = metadata
        if self._filepath.suffix.lower() not in {".parquet", ".pq", ".csv"}:
            raise DatasetError(
                f"TableDataset reads .parquet and .csv files; {self._filepath} is neither. "
                "Convert the file, or use another Kedro dataset type for it."
            )

    def _load(self) -> pd.DataFrame | Table:
        if not self._filepath.is_file():
            raise DatasetError(f"{self._filepath} does not exist.")
        if self._filepath.suffix.lower() == ".csv":
            table: Table = CsvTable(self._filepath, self._chunk_rows, self._load_args)
        else:
            table = ParquetTable(self._filepath)
        return table.to_pandas() if table.fits_in_one_chunk() else table

    def _save(self, data: pd.DataFrame | Table) -> None:
        if self._filepath.suffix.lower() == ".csv":
            raise DatasetError(
                f"TableDataset writes Parquet only; give {self._filepath} a .parquet name."
            )
        try:
            write_parquet(
                iter_chunks(data, self._chunk_rows),
                self._filepath,
                self._chunk_rows,
                self._save_args,
            )
        except TypeError as error:
            raise DatasetError(
                f"{self._filepath}: save_args {self._save_args} are not options of "
                f"pyarrow.parquet.ParquetWriter ({error}); see its documentation."
            ) from error

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "chunk_rows": self._chunk_rows}
