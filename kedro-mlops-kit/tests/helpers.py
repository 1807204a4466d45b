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
from kedro_mlops_kit.serving_model import FeatureTransform, ServingModule, build_mlp
from kedro_mlops_kit.tasks import CLASSIFICATION, REGRESSION
from kedro_mlops_kit.training.fit import train


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


def make_frame(task: str) -> pd.DataFrame:
    """The tiny table of ``task``."""
    return make_classification_frame() if task == CLASSIFICATION else make_regression_frame()


def data_params(task: str) -> dict[str, Any]:
    """A data_processing parameter block for the tiny tables."""
    return {"task": task, "target": "target", "categorical_columns": ["colour"]}


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


def fit_preprocessor(train_set: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Fit the preprocessing the way the project's data_processing node does; return its dict."""
    target = params["target"]
    features = [c for c in train_set.columns if c != target]
    categorical = list(params["categorical_columns"])
    numeric = [c for c in features if c not in categorical]
    task = params["task"]
    return Preprocessor(
        task=task,
        target=target,
        feature_columns=features,
        categorical_columns=categorical,
        means={c: float(train_set[c].mean()) for c in numeric},
        stds={c: float(train_set[c].std(ddof=0)) for c in numeric},
        categories={c: sorted(float(v) for v in train_set[c].unique()) for c in categorical},
        class_labels=sorted(int(v) for v in train_set[target].unique())
        if task == CLASSIFICATION
        else [],
        target_mean=float(train_set[target].mean()) if task == REGRESSION else None,
        target_std=float(train_set[target].std(ddof=0)) if task == REGRESSION else None,
    ).to_dict()


def default_factory(preprocessor: Preprocessor, params: dict[str, Any]) -> nn.Module:
    """The project's default ``model.build_model``: feature transform, then an MLP."""
    transform = FeatureTransform(preprocessor)
    network = build_mlp(
        transform.n_outputs, params["hidden_sizes"], preprocessor.n_outputs, params["dropout"]
    )
    return nn.Sequential(transform, network)


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
