"""Feature encoding for the multivariate (MMD) detector.

The MMD detector uses a Gaussian RBF kernel on Euclidean distances, so raw features on different
scales would let the largest-scale column dominate the kernel and hide shifts elsewhere. Numeric
columns are therefore standardised with the *reference* mean/std (fitted once, stored in the
bundle), and integer-coded categorical columns are one-hot encoded over the reference categories,
because their codes have no metric meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FeatureEncoder"]

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
