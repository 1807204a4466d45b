"""Feature encodings of the drift detectors.

:class:`DriftEncoding` turns raw mixed-type columns (text categories, dates, missing values) into
the numeric frame every detector reads. :class:`FeatureEncoder` prepares that frame for MMD.

The MMD detector uses a Gaussian RBF kernel on Euclidean distances, so raw features on different
scales would let the largest-scale column dominate the kernel and hide shifts elsewhere. Numeric
columns are therefore standardised with the *reference* mean/std (fitted once, stored in the
bundle), and integer-coded categorical columns are one-hot encoded over the reference categories,
because their codes have no metric meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from kedro_mlops_kit.features import MISSING_CATEGORY, wire_frame
from kedro_mlops_kit.schema import CATEGORICAL

__all__ = ["DriftEncoding", "FeatureEncoder", "missing_rates"]

# A constant reference column would divide by zero; with unit scale its (constant) standardised
# value stays finite and any batch deviation from the constant still shows up in the kernel.
_MIN_STD = 1e-12


@dataclass(frozen=True)
class FeatureEncoder:
    """Reference-fitted standardisation (numeric) plus one-hot encoding (categorical)."""

    numeric_columns: tuple[str, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    categories: dict[str, tuple[float, ...]]

    @classmethod
    def fit(
        cls,
        reference: pd.DataFrame,
        feature_columns: Sequence[str],
        categorical_columns: Sequence[str],
    ) -> FeatureEncoder:
        """Learn scaling and category sets from the reference data."""
        categorical = set(categorical_columns)
        numeric = tuple(c for c in feature_columns if c not in categorical)
        values = reference.loc[:, list(numeric)].to_numpy(dtype=np.float64)
        means = values.mean(axis=0) if numeric else np.empty(0)
        stds = values.std(axis=0) if numeric else np.empty(0)
        stds = np.where(stds < _MIN_STD, 1.0, stds)
        categories = {
            c: tuple(float(v) for v in np.unique(reference[c].to_numpy()))
            for c in feature_columns
            if c in categorical
        }
        return cls(numeric, tuple(map(float, means)), tuple(map(float, stds)), categories)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` into a float32 matrix (alibi-detect's torch backend wants float32).

        Categories unseen in the reference get an all-zero one-hot row: they then sit at the
        same distance from every known category, which the kernel sees as a shift.
        """
        blocks: list[np.ndarray] = []
        if self.numeric_columns:
            numeric = frame.loc[:, list(self.numeric_columns)].to_numpy(dtype=np.float64)
            blocks.append((numeric - np.asarray(self.means)) / np.asarray(self.stds))
        for column, cats in self.categories.items():
            codes = frame[column].to_numpy(dtype=np.float64)
            # Scale by 1/sqrt(2) so two different categories are at distance 1, like one std.
            blocks.append((codes[:, None] == np.asarray(cats)[None, :]) / np.sqrt(2.0))
        return np.hstack(blocks).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable representation."""
        return {
            "numeric_columns": list(self.numeric_columns),
            "means": list(self.means),
            "stds": list(self.stds),
            "categories": {c: list(v) for c, v in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureEncoder:
        """Rebuild an encoder written by :meth:`to_dict`."""
        return cls(
            numeric_columns=tuple(data["numeric_columns"]),
            means=tuple(float(v) for v in data["means"]),
            stds=tuple(float(v) for v in data["stds"]),
            categories={c: tuple(float(x) for x in v) for c, v in data["categories"].items()},
        )


@dataclass
class DriftEncoding:
    """Raw mixed-type columns -> the numeric frame the detectors read, fitted on the reference.

    Numbers and booleans stay numbers, datetimes become Unix seconds, missing values take the
    reference median (their rate is reported separately); categories become integer codes
    ``0..k-1`` for the reference's categories (missing is the category ``__missing__``) and
    ``k`` for any category the reference never had, so a chi-squared test sees them.
    """

    kinds: dict[str, str]
    categories: dict[str, list[str]]
    medians: dict[str, float]
    missing_rates: dict[str, float]

    @classmethod
    def fit(cls, reference: pd.DataFrame, kinds: dict[str, str]) -> DriftEncoding:
        """Learn categories, medians and missing rates from the raw reference rows."""
        wire = wire_frame(reference, kinds)
        categories, medians = {}, {}
        for column, kind in kinds.items():
            if kind == CATEGORICAL:
                values = wire[column].replace("", MISSING_CATEGORY)
                categories[column] = sorted(str(v) for v in values.unique())
            else:
                median = (
                    float(np.nanmedian(wire[column].astype(float)))
                    if wire[column].notna().any()
                    else 0.0
                )
                medians[column] = median
        return cls(
            kinds=dict(kinds),
            categories=categories,
            medians=medians,
            missing_rates=missing_rates(reference, kinds),
        )

    @property
    def categorical_columns(self) -> list[str]:
        """Categorical columns, in feature order."""
        return [c for c, kind in self.kinds.items() if kind == CATEGORICAL]

    def encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the numeric frame (float64) of ``frame``'s feature columns."""
        wire = wire_frame(frame, self.kinds)
        encoded = {}
        for column, kind in self.kinds.items():
            if kind == CATEGORICAL:
                index = {value: i for i, value in enumerate(self.categories[column])}
                unseen = len(index)
                values = wire[column].replace("", MISSING_CATEGORY)
                encoded[column] = values.map(lambda v, i=index, u=unseen: i.get(v, u)).astype(float)
            else:
                encoded[column] = wire[column].astype(float).fillna(self.medians[column])
        return pd.DataFrame(encoded, index=frame.index)

    def unseen_share(self, frame: pd.DataFrame) -> dict[str, float]:
        """Share of rows whose category the reference never had, per categorical column."""
        wire = wire_frame(frame, {c: CATEGORICAL for c in self.categorical_columns})
        shares = {}
        for column in self.categorical_columns:
            values = wire[column].replace("", MISSING_CATEGORY)
            shares[column] = (
                float((~values.isin(self.categories[column])).mean()) if len(values) else 0.0
            )
        return shares

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable representation."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftEncoding:
        """Rebuild an encoding written by :meth:`to_dict`."""
        return cls(**data)


def missing_rates(frame: pd.DataFrame, kinds: dict[str, str]) -> dict[str, float]:
    """Share of missing values per feature column (an empty text value counts as missing)."""
    rates = {}
    for column, kind in kinds.items():
        values = frame[column]
        missing = values.isna()
        if kind == CATEGORICAL:
            missing |= values.astype(str).eq("") & values.notna()
        rates[column] = float(missing.mean()) if len(values) else 0.0
    return rates
