"""Tiny deterministic tables, parameter blocks and the project's default factory.

A plain module (not ``conftest``) so that processes started by the tests (``torchrun``, a fresh
interpreter loading a registered model) can import it too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.preprocessor import fit_preprocessor as fit_features
from kedro_mlops_kit.schema import TableSchema, infer_schema
from kedro_mlops_kit.serving_model import ServingModule, build_mlp
from kedro_mlops_kit.tasks import CLASSIFICATION
from kedro_mlops_kit.training.fit import train


def _features(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "x1": rng.normal(10.0, 2.0, n),
            "x2": rng.normal(-5.0, 0.5, n),
            # A text category, with missing values.
            "colour": rng.choice(["red", "green", "blue"], n).astype(object),
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
        }
    )
    frame.loc[::17, "x2"] = np.nan
    frame.loc[::23, "colour"] = None
    return frame


def make_classification_frame() -> pd.DataFrame:
    """120 rows, two separable classes (text labels) driven by x1 and colour."""
    rng = np.random.default_rng(0)
    frame = _features(rng, 120)
    score = (frame["x1"] - 10.0) + (frame["colour"] == "blue") * 1.5
    frame["target"] = np.where(score > 0, "yes", "no")
    return frame


def make_regression_frame() -> pd.DataFrame:
    """120 rows, a linear target in x1/x2 plus a colour offset."""
    rng = np.random.default_rng(1)
    frame = _features(rng, 120)
    offset = frame["colour"].map({"red": 0.0, "green": 5.0, "blue": 10.0}).fillna(2.0)
    frame["target"] = 3.0 * frame["x1"] - 2.0 * frame["x2"].fillna(-5.0) + offset
    return frame


def make_frame(task: str) -> pd.DataFrame:
    """The tiny table of ``task``."""
    return make_classification_frame() if task == CLASSIFICATION else make_regression_frame()


def data_params(task: str) -> dict[str, Any]:
    """A data_processing parameter block for the tiny tables."""
    return {
        "task": task,
        "target": "target",
        "features": {"max_categories": 50, "min_frequency": 1, "datetime_parts": ["month"]},
        "split": {"strategy": "random", "validation_size": 0.15, "test_size": 0.15, "seed": 0},
    }


def table_schema(frame: pd.DataFrame) -> TableSchema:
    """The schema `make schema` would infer for ``frame`` (through its YAML round trip)."""
    return TableSchema.from_yaml(infer_schema(frame, "target").to_yaml())


def training_params(**overrides: Any) -> dict[str, Any]:
    """A small, fast training parameter block (what the project's parameters_training.yml has)."""
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


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train / validation / test: the first 80 rows, the next 20, the last 20 (rows are iid)."""
    parts = frame.iloc[:80], frame.iloc[80:100], frame.iloc[100:]
    return tuple(part.reset_index(drop=True) for part in parts)


def fit_preprocessor(train_set: pd.DataFrame, params: dict[str, Any]) -> Preprocessor:
    """Fit the preprocessing the way the project's data_processing node does."""
    return fit_features(train_set, table_schema(train_set), params)


def default_factory(preprocessor: Preprocessor, params: dict[str, Any]) -> nn.Module:
    """The project's default ``model.build_model``: an MLP on the preprocessed inputs."""
    return build_mlp(
        preprocessor.n_inputs, params["hidden_sizes"], preprocessor.n_outputs, params["dropout"]
    )


def train_tiny(
    task: str = CLASSIFICATION, build_model=default_factory, **overrides: Any
) -> tuple[ServingModule, list[dict[str, float]]]:
    """Train ``build_model``'s network on the tiny table of ``task`` through ``train()``."""
    params = data_params(task)
    train_set, validation_set, _ = split(make_frame(task))
    return train(
        build_model,
        train_set,
        validation_set,
        fit_preprocessor(train_set, params),
        training_params(**overrides),
    )


def numeric_state(task: str, columns: tuple[str, ...] = ("a", "b", "c")) -> Preprocessor:
    """A preprocessing fitted on a numeric-only table: ``len(columns)`` network inputs.

    Classification labels are 0 and 1; the regression target has mean 10 and std 2.
    """
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({c: rng.normal(size=40) for c in columns})
    if task == CLASSIFICATION:
        frame["target"] = np.tile([0, 1], 20)
    else:
        frame["target"] = np.tile([8.0, 12.0], 20)
    params = {"task": task, "target": "target", "features": {}}
    return fit_features(frame, table_schema(frame), params)
