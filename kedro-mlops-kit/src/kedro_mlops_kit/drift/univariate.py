"""Per-feature two-sample tests used as diagnostics next to the multivariate MMD verdict.

MMD says *whether* the joint distribution moved but not *which* features; these univariate tests
(KS for numeric, chi-squared for categorical, the same pair TabularDrift uses) point a person at
the columns to look at.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp

__all__ = ["univariate_tests"]


def _chi2(reference: np.ndarray, batch: np.ndarray) -> tuple[float, float]:
    # Only categories seen in either sample: an all-zero column makes the expected counts zero
    # and chi2_contingency raise.
    categories = np.union1d(np.unique(reference), np.unique(batch))
    if categories.size < 2:
        return 0.0, 1.0
    table = np.vstack(
        [
            (reference[:, None] == categories[None, :]).sum(axis=0),
            (batch[:, None] == categories[None, :]).sum(axis=0),
        ]
    )
    statistic, p_value, _, _ = chi2_contingency(table)
    return float(statistic), float(p_value)


def univariate_tests(
    reference: pd.DataFrame,
    batch: pd.DataFrame,
    feature_columns: Sequence[str],
    categorical_columns: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Return per-feature (p-values, statistics) comparing ``batch`` with ``reference``."""
    categorical = set(categorical_columns)
    p_values = np.empty(len(feature_columns))
    statistics = np.empty(len(feature_columns))
    for i, column in enumerate(feature_columns):
        ref = reference[column].to_numpy(dtype=np.float64)
        new = batch[column].to_numpy(dtype=np.float64)
        if column in categorical:
            statistics[i], p_values[i] = _chi2(ref, new)
        else:
            # method="asymp" matches alibi-detect and stays O(n log n) on 100k-row batches.
            result = ks_2samp(ref, new, method="asymp")
            statistics[i], p_values[i] = result.statistic, result.pvalue
    return p_values, statistics
