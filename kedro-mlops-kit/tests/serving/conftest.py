"""Fixtures: a tmp sqlite MLflow registry with two versions of a tiny model, exported repo.

The registered models are real ``ServingModule``s with a fitted ``Preprocessor`` on a small
mixed-type table whose column names and labels are awkward on purpose (see ``tiny_model``).
"""

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
from kedro_mlops_kit.serving_model import ServingModule

from . import tiny_model
from .tiny_model import raw_table

MODEL_NAME = "tabular_mlp"


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


def register(model: ServingModule, name: str = MODEL_NAME) -> int:
    """Log ``model`` like the training pipeline does and return its registry version."""
    # Pickling the test module by value makes the artefact loadable by any process (mlflow models
    # serve, another cwd) without importing the tests package.
    cloudpickle.register_pickle_by_value(tiny_model)
    # The PyTorch flavour's input is the preprocessed matrix (as the training pipeline logs it).
    example = torch.zeros(2, model.preprocessor.n_inputs, dtype=torch.float32)
    with torch.no_grad():
        output = model(example).numpy().astype(np.float32)
    with mlflow.start_run():
        info = mlflow.pytorch.log_model(
            model,
            name="model",
            registered_model_name=name,
            # mlflow 3.x defaults to 'pt2' (torch.export), which drops the preprocessor and the
            # contract attributes (feature_columns, task, class_labels); the pipeline pickles.
            serialization_format="pickle",
            # Explicit requirements: inference takes ~20 s and pins a wrong torch build here.
            pip_requirements=["torch", "numpy", "pandas", "scikit-learn"],
            signature=infer_signature(example.numpy(), output),
        )
    return int(info.registered_model_version)


@pytest.fixture(scope="session")
def registry(tracking_uri: str) -> dict[int, ServingModule]:
    """Two registered versions; v2 is champion, v1 challenger-turned-previous."""
    models = {}
    for seed in (1, 2):
        model = tiny_model.tiny_model(seed)
        models[register(model)] = model
    client = MlflowClient()
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, "2")
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, "1")
    return models


@pytest.fixture(scope="session")
def holdout() -> pd.DataFrame:
    """Held-out raw rows as the test split holds them: target included, odd column order."""
    return raw_table(48, seed=42)


@pytest.fixture(scope="session")
def exported_repo(
    registry: dict[int, ServingModule],
    holdout: pd.DataFrame,
    tmp_path_factory: pytest.TempPathFactory,
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
