"""MLflow model-registry helpers shared by export and rollback.

Alias lookups go through :mod:`kedro_mlops_kit.registry` (the one place that resolves
``champion``); this module turns its errors into the serving package's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import torch
from mlflow import MlflowClient

from kedro_mlops_kit.registry import AliasNotFoundError, alias_version
from kedro_mlops_kit.serving.contract import ModelSignature
from kedro_mlops_kit.serving.errors import ModelContractError, RollbackError

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class LoadedModel:
    """A registered PyTorch model with the registry version it came from."""

    name: str
    version: int
    module: torch.nn.Module
    feature_columns: tuple[str, ...]
    task: str
    class_labels: tuple[str, ...] | None


def resolve_alias(model_name: str, alias: str, client: MlflowClient | None = None) -> int:
    """Return the version number ``alias`` points at (``ModelContractError`` if none)."""
    try:
        return int(alias_version(model_name, alias, client).version)
    except AliasNotFoundError as exc:
        raise ModelContractError(str(exc)) from exc


def previous_version(model_name: str, version: int, client: MlflowClient | None = None) -> int:
    """Return the highest registered version below ``version`` (the rollback target)."""
    client = client or MlflowClient()
    versions = [
        int(mv.version)
        for mv in client.search_model_versions(f"name='{model_name}'")
        if int(mv.version) < version and mv.status == "READY"
    ]
    if not versions:
        raise RollbackError(
            f"{model_name!r} version {version} is the oldest registered version; "
            "there is nothing to roll back to"
        )
    return max(versions)


def load_version(model_name: str, version: int) -> LoadedModel:
    """Load ``models:/<name>/<version>`` and check the training pipeline's contract.

    Loading by the resolved version (not by alias) pins the exact artefact, so an alias moved by
    someone else mid-export cannot mix two versions into one export.
    """
    module = mlflow.pytorch.load_model(f"models:/{model_name}/{version}", map_location="cpu")
    return checked_model(model_name, version, module)


def checked_model(model_name: str, version: int, module: torch.nn.Module) -> LoadedModel:
    """Check ``module`` carries the serving contract (a ``ServingModule``); wrap it for export."""
    module.eval()
    feature_columns = getattr(module, "feature_columns", None)
    task = getattr(module, "task", None)
    class_labels = getattr(module, "class_labels", None)
    if getattr(module, "preprocessor", None) is None:
        raise ModelContractError(
            f"{model_name} v{version} carries no preprocessing: it was trained by an older "
            "kedro-mlops-kit. Retrain it (`make train`) before exporting."
        )
    if not feature_columns or not all(isinstance(c, str) for c in feature_columns):
        raise ModelContractError(
            f"{model_name} v{version}: feature_columns must list str names. Was the model "
            "logged with serialization_format='pickle'? mlflow 3's default 'pt2' drops attributes."
        )
    if task not in TASKS:
        raise ModelContractError(f"{model_name} v{version}: task must be one of {TASKS}: {task!r}")
    return LoadedModel(
        name=model_name,
        version=version,
        module=module,
        feature_columns=tuple(feature_columns),
        task=task,
        # Regression models carry an empty list: no labels, not "zero labels".
        class_labels=tuple(str(c) for c in class_labels or ()) or None,
    )


def signature_of(model: LoadedModel, n_outputs: int) -> ModelSignature:
    """Build the Triton-facing signature of ``model`` given its observed output width."""
    if model.task == "regression" and n_outputs != 1:
        raise ModelContractError(f"regression models must output [batch, 1], got {n_outputs}")
    # An empty label list means "no labels" (what regression models carry), not zero classes.
    labels = model.class_labels or None
    if labels is not None and len(labels) != n_outputs:
        raise ModelContractError(
            f"{model.name} v{model.version}: {len(labels)} class_labels but the model outputs "
            f"{n_outputs} columns; class_labels must name every output column"
        )
    preprocessor = model.module.preprocessor
    return ModelSignature(
        feature_columns=model.feature_columns,
        datatypes=preprocessor.input_datatypes,
        n_outputs=n_outputs,
        task=model.task,
        class_labels=labels,
        schema_yaml=preprocessor.schema.pandera.to_yaml(),
    )
