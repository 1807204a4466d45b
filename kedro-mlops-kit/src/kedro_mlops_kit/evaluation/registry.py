"""MLflow model logging, registration and alias management."""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import mlflow
import numpy as np
import torch
from mlflow import MlflowClient
from mlflow.models import infer_signature
from packaging.version import Version

from kedro_mlops_kit.registry import CHALLENGER, CHAMPION, AliasNotFoundError, champion_version
from kedro_mlops_kit.serving_model import ServingModule

logger = logging.getLogger(__name__)

METRIC_TAG_PREFIX = "test_"
TASK_TAG = "task"
# Packages a serving environment installs anyway: their classes need no code_paths.
INSTALLED_PACKAGES = frozenset({"torch", "kedro_mlops_kit", "builtins"})
# The pickled model holds the fitted scikit-learn preprocessing and the plugin's classes.
PINNED_PACKAGES = ("torch", "numpy", "mlflow", "scikit-learn", "pandera", "kedro-mlops-kit")


def _project_package() -> str | None:
    """Return the import package of the Kedro project being run, if any."""
    try:
        from kedro.framework import project
    except ImportError:  # pragma: no cover - kedro is a dependency of the plugin
        return None
    return project.PACKAGE_NAME


def code_paths(model: torch.nn.Module, destination: Path) -> list[str]:
    """Copy the project modules that define ``model``'s classes under ``destination``.

    Only what loading the pickle needs travels with the registered model: for a network built
    from the plugin's blocks that is nothing; for a class defined in the project's ``model.py``
    it is that file, in its package folder (``<package>/__init__.py`` left empty), so that
    ``<package>.model`` imports in a serving environment that does not install the project.
    Classes of other installed distributions (``torchvision``, ``timm``, ...) are not copied:
    a partial copy would shadow the real package when the model loads; the serving
    environment must install them (list them in the ``pip_requirements``).

    Returns:
        The package folders to pass as MLflow ``code_paths`` (empty when none is needed).
    """
    folders: dict[str, Path] = {}
    skipped: set[type] = set()
    installed: dict[str, list[str]] | None = None
    project = _project_package()
    for module in model.modules():
        cls = type(module)
        top = cls.__module__.split(".")[0]
        if top in INSTALLED_PACKAGES or cls in skipped:
            continue
        if top not in folders and top != project:
            installed = packages_distributions() if installed is None else installed
            if top in installed:
                skipped.add(cls)
                logger.warning(
                    "%s comes from the installed distribution %s, which is not copied with the "
                    "model: the serving environment must install it too.",
                    cls.__name__,
                    ", ".join(sorted(set(installed[top]))),
                )
                continue
        _copy_module(cls, destination)
        folders[top] = destination / top
    return [str(folder) for folder in folders.values()]


def _copy_module(cls: type, destination: Path) -> None:
    """Copy the module defining ``cls`` to its place in its package under ``destination``."""
    name = cls.__module__
    source = getattr(sys.modules.get(name), "__file__", None)
    if source is None or "." not in name:
        raise ValueError(
            f"{cls.__name__} is defined in {name!r}, which is not a module of the project "
            "package: define the network's classes in src/<package>/model.py."
        )
    parts = name.split(".")
    # A class defined in a sub-package's __init__.py stays there (a sibling module must not
    # hide a folder of the same name).
    if Path(source).name == "__init__.py":
        target = destination.joinpath(*parts, "__init__.py")
    else:
        target = destination.joinpath(*parts).with_suffix(".py")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    for parent in target.relative_to(destination).parents[:-1]:
        # touch() keeps a sub-package __init__.py copied earlier; new ones are left empty.
        (destination / parent / "__init__.py").touch()


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
        version = champion_version(model_name, client)
    except AliasNotFoundError:
        # No registered model yet, or no champion alias: both mean "nothing to beat". Any other
        # registry failure (server down) propagates: promoting blind would be wrong.
        return None
    metrics = {
        key.removeprefix(METRIC_TAG_PREFIX): float(value)
        for key, value in version.tags.items()
        if key.startswith(METRIC_TAG_PREFIX)
    }
    return Champion(version=str(version.version), task=version.tags.get(TASK_TAG), metrics=metrics)


def _log_model(model, model_name, signature, pip_requirements, metadata, tmp: Path):
    """Log and register ``model`` with only the code its pickle needs (see ``code_paths``)."""
    return mlflow.pytorch.log_model(
        model,
        name="model",
        code_paths=code_paths(model, tmp) or None,
        # mlflow>=3.17 defaults to torch.export ("pt2"), which drops the contract attributes.
        serialization_format="pickle",
        signature=signature,
        pip_requirements=pip_requirements or default_pip_requirements(),
        metadata=metadata,
        registered_model_name=model_name,
    )


def log_and_register(
    model: ServingModule,
    model_name: str,
    metrics: dict[str, float],
    pip_requirements: list[str] | None,
    metadata: dict,
) -> str:
    """Log ``model`` to the active run, register it, tag it with ``metrics``; return version."""
    # The PyTorch flavour's input: the preprocessed matrix (raw rows go through
    # ``model.predict_frame`` or the exported ONNX graph).
    example = torch.zeros(2, model.preprocessor.n_inputs, dtype=torch.float32)
    with torch.no_grad():
        signature = infer_signature(example.numpy(), model(example).numpy().astype(np.float32))
    with tempfile.TemporaryDirectory(prefix="code-paths-") as tmp:
        info = _log_model(model, model_name, signature, pip_requirements, metadata, Path(tmp))
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
