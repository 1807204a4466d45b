"""MLflow model logging, registration and alias management."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import mlflow
import numpy as np
import torch
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from packaging.version import Version

from ...serving_model import ServingModule

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
METRIC_TAG_PREFIX = "test_"
TASK_TAG = "task"
# The whole package travels with the model so the pickled ServingModule class can be imported
# by a serving environment that does not install this project.
PACKAGE_DIR = Path(__file__).resolve().parents[2]
PINNED_PACKAGES = ("torch", "numpy", "mlflow")


def default_pip_requirements() -> list[str]:
    """Pin the serving dependencies to the installed versions.

    MLflow's inference is slow and pins the wrong build (local ``+cpu`` tags, test tools); a
    public version such as ``torch==2.13.0`` matches both CPU and CUDA builds (PEP 440).
    """
    requirements = []
    for package in PINNED_PACKAGES:
        try:
            requirements.append(f"{package}=={Version(version(package)).public}")
        except PackageNotFoundError:
            requirements.append(package)
    return requirements


@dataclass(frozen=True)
class Champion:
    """The registered version currently aliased ``champion``, as far as comparison needs."""

    version: str
    task: str | None
    metrics: dict[str, float]


def current_champion(client: MlflowClient, model_name: str) -> Champion | None:
    """Return the current champion of ``model_name``, or None when there is none."""
    try:
        version = client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        # No registered model yet, or no champion alias: both mean "nothing to beat".
        return None
    metrics = {
        key.removeprefix(METRIC_TAG_PREFIX): float(value)
        for key, value in version.tags.items()
        if key.startswith(METRIC_TAG_PREFIX)
    }
    return Champion(version=str(version.version), task=version.tags.get(TASK_TAG), metrics=metrics)


def log_and_register(
    model: ServingModule,
    model_name: str,
    metrics: dict[str, float],
    pip_requirements: list[str] | None,
    metadata: dict,
) -> str:
    """Log ``model`` to the active run, register it, tag it with ``metrics``; return version."""
    example = torch.zeros(2, len(model.feature_columns), dtype=torch.float32)
    with torch.no_grad():
        signature = infer_signature(example.numpy(), model(example).numpy().astype(np.float32))
    info = mlflow.pytorch.log_model(
        model,
        name="model",
        code_paths=[str(PACKAGE_DIR)],
        # mlflow>=3.17 defaults to torch.export ("pt2"), which drops the contract attributes.
        serialization_format="pickle",
        signature=signature,
        pip_requirements=pip_requirements or default_pip_requirements(),
        metadata=metadata,
        registered_model_name=model_name,
    )
    version_number = str(info.registered_model_version)
    client = MlflowClient()
    client.set_model_version_tag(model_name, version_number, TASK_TAG, model.task)
    for name, value in metrics.items():
        client.set_model_version_tag(model_name, version_number, METRIC_TAG_PREFIX + name, value)
    client.set_registered_model_alias(model_name, CHALLENGER, version_number)
    return version_number


def promote(model_name: str, version_number: str) -> None:
    """Point the ``champion`` alias at ``version_number``."""
    MlflowClient().set_registered_model_alias(model_name, CHAMPION, version_number)
