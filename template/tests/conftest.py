"""Shared fixtures: tiny deterministic tables and parameter sets."""

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")


def _features(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x1": rng.normal(10.0, 2.0, n),
            "x2": rng.normal(-5.0, 0.5, n),
            # Integer-coded categorical feature.
            "colour": rng.integers(0, 3, n),
        }
    )


def make_classification_frame() -> pd.DataFrame:
    """120 rows, two separable classes driven by x1 and colour."""
    rng = np.random.default_rng(0)
    frame = _features(rng, 120)
    frame["target"] = ((frame["x1"] - 10.0) + (frame["colour"] == 2) * 1.5 > 0).astype(int)
    return frame


def make_regression_frame() -> pd.DataFrame:
    """120 rows, a linear target in x1/x2 plus a colour offset."""
    rng = np.random.default_rng(1)
    frame = _features(rng, 120)
    frame["target"] = 3.0 * frame["x1"] - 2.0 * frame["x2"] + 5.0 * frame["colour"]
    return frame


@pytest.fixture
def classification_frame() -> pd.DataFrame:
    """Tiny classification table."""
    return make_classification_frame()


@pytest.fixture
def regression_frame() -> pd.DataFrame:
    """Tiny regression table."""
    return make_regression_frame()


def data_params(task: str) -> dict:
    """A data_processing parameter block for the tiny tables."""
    return {
        "task": task,
        "target": "target",
        "feature_columns": None,
        "categorical_columns": ["colour"],
        "split": {"validation_size": 0.2, "test_size": 0.2, "seed": 7},
    }


def training_params(**overrides) -> dict:
    """A small, fast training parameter block."""
    params = {
        "seed": 3,
        "device": "cpu",
        "hidden_sizes": [8],
        "dropout": 0.0,
        "batch_size": 16,
        "epochs": 15,
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "patience": 5,
    }
    params.update(overrides)
    return params
