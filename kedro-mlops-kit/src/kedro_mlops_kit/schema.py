"""The table schema: inferred once from the raw table, reviewed, then enforced everywhere.

``kedro data schema`` (``make schema``) infers it with pandera and writes
``conf/base/schema.yml``: pandera's own YAML, one entry per column with its dtype, whether it
may be missing, and its *kind* in the ``title`` field. From then on the same schema checks the
raw data on every run, production batches in the drift job, and rows in the client before they
are sent; it also travels inside every exported model (see :mod:`kedro_mlops_kit.serving.contract`).

Kinds decide how a column is used: ``numeric``, ``integer``, ``boolean``, ``categorical``,
``datetime`` are features; ``identifier`` (nearly unique text) is left out of the features;
``target`` is what the model predicts.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from kedro.io import AbstractDataset
from pandera.errors import SchemaError as PanderaSchemaError
from pandera.errors import SchemaErrors

logger = logging.getLogger(__name__)

SCHEMA_FILE = Path("conf/base/schema.yml")
PARAMS_FILE = "conf/base/parameters_data_processing.yml"
NUMERIC, INTEGER, BOOLEAN, CATEGORICAL, DATETIME = (
    "numeric",
    "integer",
    "boolean",
    "categorical",
    "datetime",
)
IDENTIFIER, TARGET = "identifier", "target"
FEATURE_KINDS = (NUMERIC, INTEGER, BOOLEAN, CATEGORICAL, DATETIME)
KINDS = (*FEATURE_KINDS, IDENTIFIER, TARGET)
# pandera dtype of each feature kind (the target keeps the dtype it was inferred with).
_DTYPES = {
    NUMERIC: "float64",
    INTEGER: "float64",
    BOOLEAN: "bool",
    CATEGORICAL: "str",
    DATETIME: "datetime64[ns]",
    IDENTIFIER: "str",
}
# A text column is an identifier when more than this share of its values is distinct (and it
# has more than IDENTIFIER_MIN_UNIQUE of them): one-hot encoding it would only memorise rows.
IDENTIFIER_UNIQUE_SHARE = 0.5
IDENTIFIER_MIN_UNIQUE = 20
# Share of non-empty text values that must parse as ISO dates for a column to be a datetime.
DATETIME_PARSE_SHARE = 0.95
_HEADER = """\
# The table schema: inferred by `make schema` from {source}, then yours to review and edit.
# Every run checks the raw data against it; the drift job checks production batches; the client
# checks rows before sending them; each exported model carries a copy.
# Per column: `title` is the kind (numeric | integer | boolean | categorical | datetime |
# identifier | target), `dtype` what values are coerced to, `nullable` whether it may be missing.
# Identifiers are left out of the features: set `title: categorical` to use one as a feature.
# Re-infer with `make schema FORCE=1` (overrides: data_processing.column_kinds).
"""


class DataValidationError(ValueError):
    """The data does not match the schema; the message names the column, rows and the fix."""


@dataclass(frozen=True)
class TableSchema:
    """A pandera ``DataFrameSchema`` whose columns carry a kind (in their ``title``)."""

    pandera: pa.DataFrameSchema

    @property
    def kinds(self) -> dict[str, str]:
        """Kind of every column, in file order."""
        return {name: column.title or NUMERIC for name, column in self.pandera.columns.items()}

    @property
    def target(self) -> str:
        """Name of the target column."""
        targets = [name for name, kind in self.kinds.items() if kind == TARGET]
        if len(targets) != 1:
            raise DataValidationError(
                f"The schema must have exactly one column of kind 'target', found {targets}. Set "
                f"`title: target` on one column of {SCHEMA_FILE}."
            )
        return targets[0]

    @property
    def feature_columns(self) -> list[str]:
        """Columns the model reads, in file order (identifiers and the target excluded)."""
        return [name for name, kind in self.kinds.items() if kind in FEATURE_KINDS]

    def columns_of(self, *kinds: str) -> list[str]:
        """Columns of the given kinds, in file order."""
        return [name for name, kind in self.kinds.items() if kind in kinds]

    def nullable(self, column: str) -> bool:
        """Whether ``column`` may hold missing values."""
        return bool(self.pandera.columns[column].nullable)

    def to_yaml(self, source: str = "the raw data") -> str:
        """Return the schema file's text: a header explaining it, then pandera's YAML."""
        return _HEADER.format(source=source) + self.pandera.to_yaml()

    @classmethod
    def from_yaml(cls, text: str, origin: str = str(SCHEMA_FILE)) -> TableSchema:
        """Parse a schema file; raise ``DataValidationError`` naming the problem."""
        try:
            schema = pa.DataFrameSchema.from_yaml(text)
        except Exception as error:  # pandera raises several types for a malformed file
            raise DataValidationError(
                f"{origin} is not a valid pandera schema ({error}). Fix it, or delete it and "
                "run `make schema` to infer it again."
            ) from error
        table = cls(schema)
        unknown = {name: kind for name, kind in table.kinds.items() if kind not in KINDS}
        if unknown:
            raise DataValidationError(
                f"{origin}: unknown kind(s) {unknown}; each column's title must be one of "
                f"{list(KINDS)}."
            )
        _ = table.target
        return table

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (kind, dtype, nullable per column), e.g. for the serving contract."""
        return {
            name: {
                "kind": self.kinds[name],
                "dtype": str(column.dtype),
                "nullable": bool(column.nullable),
            }
            for name, column in self.pandera.columns.items()
        }


def load_schema(path: Path = SCHEMA_FILE) -> TableSchema:
    """Read the schema file at ``path``; say how to create it when it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(
            f"{path} does not exist. Run `make schema` to infer it from the raw data (then "
            "review it), or `make repro`, which infers it when it is missing."
        )
    return TableSchema.from_yaml(path.read_text(encoding="utf-8"), str(path))


def _looks_like_dates(values: pd.Series) -> bool:
    text = values.dropna().astype(str)
    text = text[text.str.strip() != ""]
    # Plain numbers parse as dates too; an ISO date has a dash between digits.
    if text.empty or not text.str.contains(r"\d-\d", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    return bool(parsed.notna().mean() >= DATETIME_PARSE_SHARE)


def looks_like_identifier(values: pd.Series) -> bool:
    """Whether a text column's values are nearly unique (more than half of them distinct)."""
    present = values.dropna()
    n_unique = present.nunique()
    return n_unique > IDENTIFIER_MIN_UNIQUE and n_unique > IDENTIFIER_UNIQUE_SHARE * len(present)


def infer_kind(values: pd.Series) -> str:  # noqa: PLR0911 (one return per kind)
    """Infer the kind of one (non-target) column from its values."""
    if pd.api.types.is_bool_dtype(values):
        return BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(values):
        return DATETIME
    if pd.api.types.is_integer_dtype(values):
        return INTEGER
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        is_whole = not present.empty and np.array_equal(present, np.round(present))
        return INTEGER if is_whole else NUMERIC
    present = values.dropna()
    if not present.empty and set(present.unique()) <= {True, False}:
        return BOOLEAN
    if _looks_like_dates(values):
        return DATETIME
    return IDENTIFIER if looks_like_identifier(values) else CATEGORICAL


def infer_schema(
    data: pd.DataFrame,
    target: str,
    column_kinds: Mapping[str, str] | None = None,
    nullable_columns: Collection[str] = (),
) -> TableSchema:
    """Infer the schema of ``data``: pandera's dtypes and nullability, plus a kind per column.

    Args:
        data: The raw table (or a sample of it).
        target: Name of the target column.
        column_kinds: Kinds that override inference, by column (``data_processing.column_kinds``).
        nullable_columns: Columns known to have missing values even if ``data`` (a sample)
            shows none.

    Raises:
        DataValidationError: The table is empty, the target is absent, or an override is invalid.
    """
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise DataValidationError(
            f"Cannot infer a schema from an empty table ({data.shape[0]} rows, {data.shape[1]} "
            "columns). Write the raw file with a header and rows first."
        )
    if target not in data.columns:
        raise DataValidationError(
            f"Target column {target!r} is not in the raw data. Set data_processing.target in "
            f"{PARAMS_FILE} to one of {list(data.columns)}."
        )
    overrides = dict(column_kinds or {})
    for column, kind in overrides.items():
        if column not in data.columns:
            raise DataValidationError(
                f"data_processing.column_kinds names {column!r}, which is not in the raw data "
                f"(columns: {list(data.columns)}). Fix the name in {PARAMS_FILE}."
            )
        if kind not in KINDS or kind == TARGET:
            raise DataValidationError(
                f"data_processing.column_kinds.{column} is {kind!r}; use one of "
                f"{[k for k in KINDS if k != TARGET]} (the target is data_processing.target)."
            )
    inferred = pa.infer_schema(data)
    columns = {}
    for name in data.columns:
        base = inferred.columns[name]
        nullable = bool(data[name].isna().any()) or name in nullable_columns
        if name == target:
            kind = TARGET
            dtype = base.dtype if pd.api.types.is_numeric_dtype(data[name]) else "str"
        else:
            kind = overrides.get(name) or infer_kind(data[name])
            dtype = _DTYPES[kind]
            if kind == BOOLEAN and nullable:
                # A boolean input tensor cannot carry a missing value: treat it as a category.
                logger.warning(
                    "Column %r is boolean with missing values: it becomes categorical.", name
                )
                kind, dtype = CATEGORICAL, "str"
        if kind == IDENTIFIER:
            logger.warning(
                "Column %r looks like an identifier (%d distinct values in %d rows): it is left "
                "out of the features. Set data_processing.column_kinds.%s: categorical in %s to "
                "use it.",
                name,
                data[name].nunique(),
                len(data),
                name,
                PARAMS_FILE,
            )
        columns[name] = pa.Column(dtype, nullable=nullable, title=kind, coerce=True)
    return TableSchema(pa.DataFrameSchema(columns, coerce=True))


def _rows(index: list[Any], limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in index[:limit])
    return shown + (f" (and {len(index) - limit} more)" if len(index) > limit else "")


def _explain(errors: pd.DataFrame, where: str, schema: TableSchema) -> str:
    lines = []
    for column, cases in errors.groupby("column", sort=False, dropna=False):
        kinds = schema.kinds
        check = str(cases["check"].iloc[0])
        rows = list(
            dict.fromkeys(i for i in cases["index"].tolist() if i is not None and not pd.isna(i))
        )
        values = [repr(v) for v in dict.fromkeys(cases["failure_case"].tolist())][:3]
        kind = kinds.get(column, "?")
        if "not_nullable" in check:
            fix = (
                f"fill them, or set `nullable: true` for {column!r} in {SCHEMA_FILE} if missing "
                "values are expected"
            )
            lines.append(
                f"column {column!r} ({kind}) has missing values at rows {_rows(rows)}: {fix}"
            )
        else:
            fix = (
                f"correct those values, or change the column's kind/dtype in {SCHEMA_FILE} (or "
                "re-infer it with `make schema FORCE=1`)"
            )
            # pandera names no row when coercing the column failed as a whole.
            at = f"at rows {_rows(rows)}, e.g. {', '.join(values)}" if rows else "as a whole"
            lines.append(
                f"column {column!r} ({kind}, dtype {schema.pandera.columns[column].dtype}) "
                f"fails {check} {at}: {fix}"
            )
    return f"{where} does not match the schema:\n  - " + "\n  - ".join(lines)


def _parse_iso_dates(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Parse ISO 8601 text in datetime columns value by value, as ``to_wire`` reads it.

    pandera's coercion infers one format from the first value, so a column mixing
    ``2024-01-05`` and ``2024-01-05 10:30:00`` (both ISO, both inferred as dates) would fail as a
    whole, naming no row. Offsets are converted to UTC. Values that are not ISO dates are left as
    they are, for pandera to coerce or to name with their rows.
    """
    columns = [
        c
        for c in schema.columns_of(DATETIME)
        if c in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[c])
    ]
    if not columns:
        return frame
    frame = frame.copy()
    for column in columns:
        values = frame[column]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
        parsed = parsed.dt.tz_localize(None)
        unparsed = parsed.isna() & values.notna()
        frame[column] = parsed.astype(object).where(~unparsed, values) if unparsed.any() else parsed
    return frame


def validate_frame(
    data: pd.DataFrame,
    schema: TableSchema,
    *,
    where: str = "The raw data",
    require_target: bool = True,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Check ``data`` against ``schema`` and return it coerced to the schema's dtypes.

    Columns the schema does not know are an error (a column added), as are missing ones (a
    column gone); the target may be absent when ``require_target`` is false (production
    batches). With ``columns``, only those are required and checked, other columns are
    ignored (rows sent to the model). Row numbers in messages are the frame's index (0-based
    data rows).

    Raises:
        DataValidationError: Naming every failing column, a few row numbers and the fix.
    """
    if data.shape[0] == 0:
        raise DataValidationError(
            f"{where} is empty: it has a header ({data.shape[1]} columns) and no rows. Write at "
            "least one row."
        )
    target = schema.target
    if columns is not None:
        expected = list(columns)
    else:
        expected = [c for c in schema.kinds if require_target or c != target]
    gone = [c for c in expected if c not in data.columns]
    added = [c for c in data.columns if c not in schema.kinds] if columns is None else []
    if gone or added:
        parts = []
        if gone:
            parts.append(f"column(s) {gone} are missing")
        if added:
            parts.append(f"column(s) {added} are not in {SCHEMA_FILE}")
        raise DataValidationError(
            f"{where} does not have the schema's columns: {'; '.join(parts)}. Fix the file, or, "
            f"if the table really changed, edit {SCHEMA_FILE} (or re-infer it with "
            "`make schema FORCE=1`) and retrain."
        )
    wanted = expected if columns is not None else list(data.columns)
    checked_columns = {name: col for name, col in schema.pandera.columns.items() if name in wanted}
    checked = pa.DataFrameSchema(checked_columns, coerce=True)
    try:
        return checked.validate(_parse_iso_dates(data[list(checked_columns)], schema), lazy=True)
    except SchemaErrors as errors:
        raise DataValidationError(_explain(errors.failure_cases, where, schema)) from None
    except PanderaSchemaError as error:
        raise DataValidationError(f"{where} does not match the schema: {error}") from None


def coerce_frame(data: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Cast ``data`` to the schema's dtypes without checking it (rows already validated).

    The cheap half of :func:`validate_frame`, for rows read again after a validation pass.
    """
    columns = {name: col for name, col in schema.pandera.columns.items() if name in data.columns}
    caster = pa.DataFrameSchema(columns, coerce=True)
    return caster.coerce_dtype(_parse_iso_dates(data[list(columns)], schema))


class SchemaDataset(AbstractDataset[TableSchema, TableSchema]):
    """Kedro dataset of the schema file (``conf/base/schema.yml``): load parses and checks it."""

    def __init__(self, filepath: str = str(SCHEMA_FILE)) -> None:
        """Read and write the schema at ``filepath`` (relative to the project root)."""
        self._filepath = Path(filepath)

    def _load(self) -> TableSchema:
        return load_schema(self._filepath)

    def _save(self, data: TableSchema) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        self._filepath.write_text(data.to_yaml(), encoding="utf-8")

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


def write_inferred_schema(output: Path = SCHEMA_FILE, project_path: Path | None = None) -> str:
    """Infer the schema of the project's ``raw_data`` and write it to ``output``.

    The raw table is loaded through the project's catalog (any dataset type); the target and
    kind overrides come from the ``data_processing`` parameters. Returns a one-line summary.
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    root = Path(project_path or Path.cwd()).resolve()
    bootstrap_project(root)
    with KedroSession.create(project_path=root) as session:
        context = session.load_context()
        raw = context.catalog.load("raw_data")
        params = context.params.get("data_processing") or {}
    if "target" not in params:
        raise DataValidationError(f"Set data_processing.target in {PARAMS_FILE} first.")
    raw, nullable, rows = _profile(raw)
    table = infer_schema(raw, params["target"], params.get("column_kinds"), nullable)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table.to_yaml(source="the catalog's raw_data"), encoding="utf-8")
    counts = {}
    for kind in table.kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return f"Wrote {output} ({rows} rows; columns: {summary}). Review it, then commit it."


#: Rows of a large raw table that kinds and dtypes are inferred from.
INFER_ROWS = 200_000


def _profile(raw: Any) -> tuple[pd.DataFrame, set[str], int]:
    """Return rows to infer from, the columns with a missing value anywhere, and the row count.

    A DataFrame or a one-chunk table is used whole; a larger table (see
    :mod:`kedro_mlops_kit.table`) is read once: a random sample of about ``INFER_ROWS`` rows
    for kinds and dtypes, and every row for nullability.
    """
    from kedro_mlops_kit.table import Table

    if not isinstance(raw, Table):
        return raw, set(), len(raw)
    if raw.fits_in_one_chunk():
        frame = raw.to_pandas()
        return frame, set(), len(frame)
    rng = np.random.default_rng(0)
    total = len(raw)
    keep = min(1.0, INFER_ROWS / max(total, 1))
    parts, nullable = [], set()
    for chunk in raw.chunks():
        nullable.update(chunk.columns[chunk.isna().any()].tolist())
        parts.append(chunk[rng.random(len(chunk)) < keep])
    return pd.concat(parts, ignore_index=True), nullable, total
