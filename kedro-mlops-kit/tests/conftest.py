"""Shared fixtures: tiny deterministic tables and parameter sets (see ``tests.helpers``)."""

import os

import pandas as pd
import pytest

from tests.helpers import (
    data_params,
    default_factory,
    fit_preprocessor,
    make_classification_frame,
    make_regression_frame,
    split,
    training_params,
)

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

__all__ = [
    "data_params",
    "default_factory",
    "fit_preprocessor",
    "make_classification_frame",
    "make_regression_frame",
    "split",
    "training_params",
]


@pytest.fixture
def classification_frame() -> pd.DataFrame:
    """Tiny classification table."""
    return make_classification_frame()


@pytest.fixture
def regression_frame() -> pd.DataFrame:
    """Tiny regression table."""
    return make_regression_frame()
