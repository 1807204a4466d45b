"""Simulated production batches, for tests, demos and the benchmark.

Both batches are bootstrap samples of the reference, so they carry its real joint distribution;
the shifted one then gets a known, realistic perturbation (a sensor offset on a few features and
a changed spread on one), which lets tests assert that exactly those features are flagged.
``kedro drift simulate`` (``make simulate-drift``) writes both from the project's raw data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SimulatedBatches", "simulate_batches", "write_batches"]


@dataclass(frozen=True)
class SimulatedBatches:
    """A reference-like batch, a shifted batch and the features that were shifted."""

    reference_like: pd.DataFrame
    shifted: pd.DataFrame
    mean_shifted_features: list[str]
    scaled_features: list[str]

    @property
    def shifted_features(self) -> list[str]:
        """All features whose distribution was changed in ``shifted``."""
        return [*self.mean_shifted_features, *self.scaled_features]


def simulate_batches(
    reference: pd.DataFrame,
    feature_columns: Sequence[str],
    categorical_columns: Sequence[str] = (),
    n_rows: int | None = None,
    seed: int = 0,
    n_mean_shifted: int = 3,
    mean_shift_std: float = 1.0,
    n_scaled: int = 1,
    scale_factor: float = 2.0,
) -> SimulatedBatches:
    """Draw two batches from ``reference``, deterministically from ``seed``.

    Args:
        reference: Training data to resample.
        feature_columns: Features to consider.
        categorical_columns: Never shifted (a mean shift of a category code is meaningless).
        n_rows: Rows per batch; defaults to ``len(reference)``.
        seed: Seed for row resampling and for choosing the shifted features.
        n_mean_shifted: Number of numeric features moved by ``mean_shift_std`` reference stds.
        mean_shift_std: Size of the mean shift, in reference standard deviations.
        n_scaled: Number of (other) numeric features whose spread around the reference mean is
            multiplied by ``scale_factor``.
        scale_factor: Spread multiplier.

    Returns:
        The two batches and the names of the shifted features.
    """
    categorical = set(categorical_columns)
    numeric = [c for c in feature_columns if c not in categorical]
    if not numeric:
        raise ValueError("Cannot simulate a shift: the table has no numeric feature column")
    # A narrow table shifts what it has: at least one mean shift, a spread change if possible.
    n_mean_shifted = max(1, min(n_mean_shifted, len(numeric) - 1))
    n_scaled = min(n_scaled, len(numeric) - n_mean_shifted)
    n_rows = len(reference) if n_rows is None else n_rows
    rng = np.random.default_rng(seed)

    def bootstrap() -> pd.DataFrame:
        rows = rng.integers(0, len(reference), size=n_rows)
        return reference.iloc[rows].reset_index(drop=True)

    reference_like = bootstrap()
    shifted = bootstrap()
    chosen = [numeric[i] for i in rng.choice(len(numeric), n_mean_shifted + n_scaled, False)]
    mean_shifted, scaled = chosen[:n_mean_shifted], chosen[n_mean_shifted:]

    # Cast to float first: an integer column cannot hold a fractional shift.
    for column in mean_shifted:
        std = float(reference[column].std())
        shifted[column] = shifted[column].astype(np.float64) + mean_shift_std * std
    for column in scaled:
        mean = float(reference[column].mean())
        values = shifted[column].astype(np.float64)
        shifted[column] = mean + (values - mean) * scale_factor

    return SimulatedBatches(reference_like, shifted, mean_shifted, scaled)


def write_batches(
    raw_data: Path, schema_file: Path, output: Path, seed: int = 0
) -> SimulatedBatches:
    """Draw both batches from the raw table and write them as CSV files.

    Writes ``reference_like.csv``, ``shifted.csv`` (every column but the target, as production
    sends them) and ``simulation.json`` naming the shifted features. Only numeric and integer
    columns (per the schema at ``schema_file``) are shifted.
    """
    from kedro_mlops_kit.schema import INTEGER, NUMERIC, load_schema

    schema = load_schema(schema_file)
    columns = [c for c in schema.kinds if c != schema.target]
    numeric = schema.columns_of(NUMERIC, INTEGER)
    reference = pd.read_csv(raw_data)[columns]
    others = [c for c in columns if c not in numeric]
    batches = simulate_batches(reference, columns, others, seed=seed)
    output.mkdir(parents=True, exist_ok=True)
    batches.reference_like.to_csv(output / "reference_like.csv", index=False)
    batches.shifted.to_csv(output / "shifted.csv", index=False)
    record = {
        "mean_shifted_features": batches.mean_shifted_features,
        "scaled_features": batches.scaled_features,
        "seed": seed,
    }
    (output / "simulation.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return batches
