"""Layout of the Triton model repository: version folders and their atomic replacement."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kedro_mlops_kit.serving.contract import MODEL_FILE
from kedro_mlops_kit.serving.errors import ModelRepositoryError
from kedro_mlops_kit.serving.model_config import CONFIG_FILE

_EXPORT_FIRST = "run `kedro serving export` (make export) first"

__all__ = [
    "MODEL_FILE",
    "check_repository",
    "install_version",
    "remove_versions_above",
    "version_dirs",
]


def version_dirs(model_dir: Path) -> dict[int, Path]:
    """Return ``{version: folder}`` for the numeric sub-folders of ``model_dir``."""
    if not Path(model_dir).is_dir():
        return {}
    return {int(p.name): p for p in Path(model_dir).iterdir() if p.is_dir() and p.name.isdigit()}


def check_repository(repository: Path) -> list[str]:
    """Return the model names of ``repository``; raise if a model has nothing to serve."""
    repository = Path(repository)
    if not repository.is_dir():
        raise ModelRepositoryError(f"Model repository {repository} does not exist; {_EXPORT_FIRST}")
    models = sorted(p.name for p in repository.iterdir() if (p / CONFIG_FILE).is_file())
    if not models:
        raise ModelRepositoryError(f"{repository} holds no <model>/{CONFIG_FILE}; {_EXPORT_FIRST}")
    for name in models:
        servable = [
            v for v, d in version_dirs(repository / name).items() if (d / MODEL_FILE).is_file()
        ]
        if not servable:
            raise ModelRepositoryError(
                f"{repository / name} has no <version>/{MODEL_FILE}; {_EXPORT_FIRST}"
            )
    return models


def install_version(model_dir: Path, version: int, model_file: Path) -> Path:
    """Place ``model_file`` as ``<model_dir>/<version>/model.onnx`` without partial states.

    A new version folder is staged next to the repository and renamed into place, so a polling
    Triton sees either no folder or a complete one. An existing folder gets its file replaced
    atomically instead (a directory rename cannot replace a non-empty directory).
    """
    model_dir = Path(model_dir)
    target = model_dir / str(version)
    model_dir.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        staged = target / f".{MODEL_FILE}.staging"
        shutil.copyfile(model_file, staged)
        staged.replace(target / MODEL_FILE)
        return target / MODEL_FILE
    # Staging outside the repository keeps Triton from seeing a half-built model or version.
    staging_root = model_dir.parent.parent
    staging = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}-staging-", dir=staging_root))
    try:
        shutil.copyfile(model_file, staging / MODEL_FILE)
        staging.replace(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / MODEL_FILE


def remove_versions_above(model_dir: Path, version: int) -> list[int]:
    """Delete version folders newer than ``version``; return the removed version numbers."""
    removed = []
    for number, folder in sorted(version_dirs(model_dir).items()):
        if number > version:
            shutil.rmtree(folder)
            removed.append(number)
    return removed
