"""Feature preprocessing: one scikit-learn ``ColumnTransformer``, fitted on the training split.

The same fitted object encodes rows for training and evaluation, and is converted with skl2onnx
into the front of the served ONNX graph (:func:`transformer_onnx`), so training and serving can
not disagree. Raw columns travel in their *wire* form (:func:`to_wire`), the types a Triton
request carries:

========== ========= ======================================================
kind       wire type missing value
========== ========= ======================================================
numeric    FP32      NaN
integer    FP32      NaN
boolean    BOOL      (not allowed: a nullable boolean is inferred categorical)
categorical BYTES    empty string
datetime   FP64      NaN (Unix seconds, UTC)
========== ========= ======================================================

Per kind: numbers are imputed with the training median, standardised, and get a 0/1 missing
indicator when the schema lets them be missing; categories keep the ``max_categories`` most
frequent values seen at least ``min_frequency`` times, plus a ``__missing__`` category, and map
everything else (rare in training, or unseen) to one explicit ``__unknown__`` column; datetimes
become the configured parts (year, month, day, day of week, hour), imputed and standardised;
booleans become 0/1.

Three small pieces are written here because neither scikit-learn nor skl2onnx provides them in a
convertible form: the missing indicator converter (skl2onnx does not convert
``MissingIndicator``), the datetime parts and the boolean cast.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from kedro_mlops_kit.schema import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    INTEGER,
    NUMERIC,
    DataValidationError,
    TableSchema,
)

MISSING_CATEGORY = "__missing__"
UNKNOWN_CATEGORY = "__unknown__"
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "hour")
DEFAULT_PARTS = ("year", "month", "dayofweek")
#: Triton data type of each kind's wire form.
WIRE_DATATYPES = {
    NUMERIC: "FP32",
    INTEGER: "FP32",
    BOOLEAN: "BOOL",
    CATEGORICAL: "BYTES",
    DATETIME: "FP64",
}
_NUMPY_WIRE = {"FP32": np.float32, "FP64": np.float64, "BOOL": np.bool_, "BYTES": np.object_}
_SECONDS_PER_DAY = 86_400.0


def to_wire(frame: pd.DataFrame, kinds: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Convert the feature columns of ``frame`` to their wire form, one ``[n, 1]`` array each.

    ``kinds`` maps each feature column to its kind (other columns of ``frame`` are ignored).

    Raises:
        DataValidationError: A column is absent or holds values its kind cannot carry.
    """
    arrays = {}
    for column, kind in kinds.items():
        if column not in frame.columns:
            raise DataValidationError(
                f"column {column!r} is missing; the model needs {list(kinds)}"
            )
        values = frame[column]
        try:
            if kind == CATEGORICAL:
                text = values.astype(object).where(values.notna(), "")
                array = _categories_as_text(text)
            elif kind == DATETIME:
                stamps = pd.to_datetime(values, errors="raise", utc=True, format="ISO8601")
                seconds = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
                array = seconds.to_numpy(dtype=np.float64, na_value=np.nan)
            elif kind == BOOLEAN:
                if values.isna().any():
                    raise ValueError("a boolean column cannot hold missing values")
                array = values.astype(bool).to_numpy()
            else:
                array = pd.to_numeric(values, errors="raise").to_numpy(
                    dtype=np.float32, na_value=np.nan
                )
        except (TypeError, ValueError) as error:
            raise DataValidationError(
                f"column {column!r} ({kind}) cannot be read as {WIRE_DATATYPES[kind]}: {error}"
            ) from error
        arrays[column] = array.reshape(-1, 1)
    return arrays


# Inferred dtypes whose equal values also have equal text (no True beside 1).
_ONE_TYPE = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float", "boolean"})


def _categories_as_text(text: pd.Series) -> np.ndarray:
    """:func:`_category_text` of every value, computed once per distinct value.

    Categories repeat and rows are many. Values that compare equal across types (``True``,
    ``1``, ``1.0``) would share one distinct value, so a column mixing types goes value by value.
    """
    if pd.api.types.infer_dtype(text, skipna=True) not in _ONE_TYPE:
        return np.array([_category_text(v) for v in text], dtype=object)
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    labels = np.array([_category_text(v) for v in uniques], dtype=object)
    return labels[codes] if len(codes) else np.array([], dtype=object)


def _category_text(value: Any) -> str:
    """Return the text of one category value; an integer code read as a float ("3.0") is "3".

    A CSV column of integer codes becomes float as soon as one value is missing; without this,
    code 3 would be category "3" in training and "3.0" in production.
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if text.endswith(".0") and text[:-2].lstrip("-").isdigit():
        return text[:-2]
    return text


def wire_frame(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """:func:`to_wire` as a DataFrame (what the ``ColumnTransformer`` is fitted on)."""
    return pd.DataFrame({column: array[:, 0] for column, array in to_wire(frame, kinds).items()})


def datetime_parts(seconds: np.ndarray, parts: Sequence[str]) -> np.ndarray:
    """Calendar parts (UTC) of Unix ``seconds``; NaN stays NaN. Mirrors the ONNX converter."""
    s = np.asarray(seconds, dtype=np.float64).reshape(-1)
    days = np.floor(s / _SECONDS_PER_DAY)
    # Howard Hinnant's days-to-civil algorithm, in floor arithmetic so it maps to ONNX ops.
    z = days + 719_468.0
    era = np.floor(z / 146_097.0)
    doe = z - era * 146_097.0
    yoe = np.floor(
        (doe - np.floor(doe / 1_460.0) + np.floor(doe / 36_524.0) - np.floor(doe / 146_096.0))
        / 365.0
    )
    doy = doe - (365.0 * yoe + np.floor(yoe / 4.0) - np.floor(yoe / 100.0))
    mp = np.floor((5.0 * doy + 2.0) / 153.0)
    day = doy - np.floor((153.0 * mp + 2.0) / 5.0) + 1.0
    month = mp + 3.0 - 12.0 * (mp >= 10.0)
    year = yoe + era * 400.0 + (month <= 2.0)
    # 1970-01-01 was a Thursday: Monday = 0.
    dayofweek = days + 3.0 - 7.0 * np.floor((days + 3.0) / 7.0)
    hours = np.floor(s / 3_600.0)
    hour = hours - 24.0 * np.floor(hours / 24.0)
    values = {"year": year, "month": month, "day": day, "dayofweek": dayofweek, "hour": hour}
    return np.stack([values[p] for p in parts], axis=1)


class DatetimeParts(TransformerMixin, BaseEstimator):
    """Turn Unix seconds into standardised calendar parts, imputing missing ones.

    Imputation (training median) and standardisation live here rather than in scikit-learn's
    imputer and scaler because ONNX Runtime has no double-precision ``Imputer``, and seconds
    need double precision.
    """

    def __init__(self, parts: Sequence[str] = DEFAULT_PARTS) -> None:
        """Keep ``parts``, a subset of :data:`DATETIME_PARTS`."""
        self.parts = parts

    def _parts(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.hstack([datetime_parts(x[:, i], self.parts) for i in range(x.shape[1])])

    def fit(self, x: Any, y: Any = None) -> DatetimeParts:
        """Learn each part's median (for missing dates), mean and standard deviation."""
        unknown = [p for p in self.parts if p not in DATETIME_PARTS]
        if unknown or not self.parts:
            raise DataValidationError(
                f"data_processing.features.datetime_parts must be a non-empty subset of "
                f"{list(DATETIME_PARTS)}, got {list(self.parts)}"
            )
        self.n_features_in_ = np.asarray(x).shape[1]
        self.feature_names_in_ = np.asarray(getattr(x, "columns", range(self.n_features_in_)))
        values = self._parts(x)
        with warnings.catch_warnings():
            # An all-missing column has no median: it imputes 0.
            warnings.simplefilter("ignore", RuntimeWarning)
            self.median_ = np.nan_to_num(np.nanmedian(values, axis=0))
        filled = np.where(np.isnan(values), self.median_, values)
        self.mean_ = filled.mean(axis=0)
        std = filled.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, x: Any) -> np.ndarray:
        """Return ``[n, n_columns * len(parts)]`` standardised float32 parts."""
        values = self._parts(x)
        filled = np.where(np.isnan(values), self.median_, values)
        return ((filled - self.mean_) / self.scale_).astype(np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``<column>_<part>`` for every column and part."""
        names = self.feature_names_in_ if input_features is None else input_features
        return np.array([f"{c}_{p}" for c in names for p in self.parts], dtype=object)


class BooleanAsFloat(TransformerMixin, BaseEstimator):
    """Cast boolean columns to 0.0 / 1.0."""

    def fit(self, x: Any, y: Any = None) -> BooleanAsFloat:
        """Nothing is learned."""
        self.n_features_in_ = np.asarray(x).shape[1]
        self.feature_names_in_ = np.asarray(getattr(x, "columns", range(self.n_features_in_)))
        return self

    def transform(self, x: Any) -> np.ndarray:
        """Return the columns as float32."""
        return np.asarray(x, dtype=bool).astype(np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return the input names unchanged."""
        return np.asarray(self.feature_names_in_ if input_features is None else input_features)


def kept_categories(values: pd.Series, max_categories: int, min_frequency: int) -> list[str]:
    """Categories of one wire-form column that get their own one-hot column.

    The ``max_categories`` most frequent values seen at least ``min_frequency`` times, sorted;
    missing values (the empty string) become :data:`MISSING_CATEGORY`. Everything else shares
    the unknown column. (scikit-learn's own ``min_frequency``/``max_categories`` grouping is
    not converted by skl2onnx, hence this selection.)
    """
    counts = values.replace("", MISSING_CATEGORY).value_counts()
    counts = counts[counts >= min_frequency]
    # Ties broken by value so that identical data always gives identical categories.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return sorted(str(value) for value, _ in ranked[:max_categories])


def build_transformer(
    train: pd.DataFrame, schema: TableSchema, params: Mapping[str, Any]
) -> ColumnTransformer:
    """Fit the ``ColumnTransformer`` for ``schema``'s feature columns on the training split.

    Args:
        train: The training split (validated; any dtypes the wire conversion accepts).
        schema: The table schema.
        params: ``data_processing.features``: ``max_categories``, ``min_frequency``,
            ``datetime_parts``.
    """
    kinds = {c: schema.kinds[c] for c in schema.feature_columns}
    wire = wire_frame(train, kinds)
    numeric = schema.columns_of(NUMERIC, INTEGER)
    datetimes = schema.columns_of(DATETIME)
    parts = tuple(params.get("datetime_parts") or DEFAULT_PARTS)

    def nullable(columns: list[str]) -> list[str]:
        return [c for c in columns if schema.nullable(c)]

    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        scale = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
        steps.append(("numeric", scale, numeric))
    if nullable(numeric):
        steps.append(("numeric_missing", MissingIndicator(features="all"), nullable(numeric)))
    if schema.columns_of(BOOLEAN):
        steps.append(("boolean", BooleanAsFloat(), schema.columns_of(BOOLEAN)))
    if datetimes:
        steps.append(("datetime", DatetimeParts(parts), datetimes))
    if nullable(datetimes):
        steps.append(("datetime_missing", MissingIndicator(features="all"), nullable(datetimes)))
    categorical = schema.columns_of(CATEGORICAL)
    if categorical:
        kept = [
            kept_categories(
                wire[c], int(params.get("max_categories", 50)), int(params.get("min_frequency", 1))
            )
            for c in categorical
        ]
        encode = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(
                        strategy="constant", missing_values="", fill_value=MISSING_CATEGORY
                    ),
                ),
                (
                    "ordinal",
                    OrdinalEncoder(
                        categories=kept,
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        dtype=np.int64,
                    ),
                ),
                (
                    "one_hot",
                    OneHotEncoder(
                        categories=[list(range(-1, len(k))) for k in kept],
                        handle_unknown="ignore",
                        sparse_output=False,
                        dtype=np.float32,
                    ),
                ),
            ]
        )
        steps.append(("categorical", encode, categorical))
    if not steps:
        raise DataValidationError(
            "The schema has no feature columns: every column is the target or an identifier. "
            "Set a column's title to a feature kind in conf/base/schema.yml."
        )
    transformer = ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)
    transformer.fit(wire)
    return transformer


def category_lists(transformer: ColumnTransformer) -> dict[str, list[str]]:
    """Return the kept categories of each categorical column (unknown excluded)."""
    for name, pipeline, columns in transformer.transformers_:
        if name == "categorical":
            ordinal = pipeline.named_steps["ordinal"]
            return {
                c: [str(v) for v in cats]
                for c, cats in zip(columns, ordinal.categories_, strict=True)
            }
    return {}


def feature_names(transformer: ColumnTransformer) -> list[str]:
    """Name of every column of the transformed matrix, in order."""
    names = []
    categories = category_lists(transformer)
    for name, pipeline, columns in transformer.transformers_:
        if name == "remainder" or pipeline == "drop":
            continue
        if name == "categorical":
            for column in columns:
                names += [f"{column}={UNKNOWN_CATEGORY}"]
                names += [f"{column}={value}" for value in categories[column]]
        elif name.endswith("_missing"):
            names += [f"{column}_missing" for column in columns]
        elif name == "datetime":
            names += [f"{c}_{p}" for c in columns for p in pipeline.parts]
        else:
            names += list(columns)
    return names


def transform(transformer: ColumnTransformer, frame: pd.DataFrame, kinds: Mapping[str, str]):
    """Encode ``frame`` into the float32 matrix the network reads."""
    matrix = transformer.transform(wire_frame(frame, kinds))
    return np.ascontiguousarray(matrix, dtype=np.float32)
