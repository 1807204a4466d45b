"""Fixtures: a tmp sqlite MLflow registry with two versions of a tiny model, exported repo."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from mlflow import MlflowClient
from mlflow.models import infer_signature

from kedro_mlops_kit.registry import CHALLENGER, CHAMPION
from kedro_mlops_kit.serving.export import export_version
from kedro_mlops_kit.serving.local_triton import LocalTriton

from . import tiny_model
from .tiny_model import FEATURES, TinyMLP

MODEL_NAME = "tabular_mlp"


def raw_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Rows on the raw feature scale, deliberately in a shuffled column order."""
    rng = np.random.default_rng(seed)
    values = [
        rng.normal(40, 12, n),
        rng.normal(50_000, 20_000, n),
        rng.uniform(0, 1, n),
        rng.integers(0, 10, n).astype(float),
    ]
    frame = pd.DataFrame(dict(zip(FEATURES, values, strict=True)))
    return frame[list(reversed(FEATURES))]


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    # Subprocesses (mlflow models serve) must see the same registry.
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    # Without an explicit artifact location, artifacts would land in ./mlruns of the cwd.
    experiment_id = mlflow.create_experiment(
        "serving-tests", artifact_location=(root / "artifacts").as_uri()
    )
    mlflow.set_experiment(experiment_id=experiment_id)
    yield uri
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous


def register(model: torch.nn.Module, name: str = MODEL_NAME) -> int:
    """Log ``model`` like the training pipeline does and return its registry version."""
    example = raw_rows(4)[model.feature_columns].to_numpy(np.float32)
    # Pickling the test class by value makes the artefact loadable by any process (mlflow models
    # serve, another cwd) without importing the tests package.
    cloudpickle.register_pickle_by_value(tiny_model)
    with torch.no_grad():
        output = model(torch.from_numpy(example)).numpy()
    with mlflow.start_run():
        info = mlflow.pytorch.log_model(
            model,
            name="model",
            registered_model_name=name,
            # mlflow 3.x defaults to 'pt2' (torch.export), which drops the contract attributes
            # (feature_columns, task, class_labels); the training pipeline must pickle.
            serialization_format="pickle",
            # Explicit requirements: inference takes ~20 s and pins a wrong torch build here.
            pip_requirements=["torch", "numpy"],
            signature=infer_signature(example, output),
        )
    return int(info.registered_model_version)


@pytest.fixture(scope="session")
def registry(tracking_uri: str) -> dict[int, TinyMLP]:
    """Two registered versions; v2 is champion, v1 challenger-turned-previous."""
    models = {}
    for seed in (1, 2):
        model = TinyMLP(n_outputs=3, task="classification", seed=seed).eval()
        models[register(model)] = model
    client = MlflowClient()
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, "2")
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, "1")
    return models


@pytest.fixture(scope="session")
def holdout() -> pd.DataFrame:
    return raw_rows(64, seed=42)


@pytest.fixture(scope="session")
def exported_repo(
    registry: dict[int, TinyMLP], holdout: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    repo = tmp_path_factory.mktemp("serving") / "model_repository"
    for version in sorted(registry):
        export_version(MODEL_NAME, version, holdout, repo)
    return repo


@pytest.fixture(scope="session")
def triton_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("triton-work")


@pytest.fixture(scope="session")
def triton(exported_repo: Path, triton_work_dir: Path) -> Iterator[LocalTriton]:
    with LocalTriton(exported_repo, work_dir=triton_work_dir, poll_seconds=None) as server:
        yield server


@pytest.fixture
def fresh_repo(exported_repo: Path, tmp_path: Path) -> Path:
    """A private copy of the exported repository for tests that change it."""
    copy = tmp_path / "model_repository"
    shutil.copytree(exported_repo, copy)
    return copy
