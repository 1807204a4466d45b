"""Shared helpers of the template's tests: answer profiles and rendering from the working tree."""

from __future__ import annotations

from pathlib import Path

import copier
import pytest
import yaml
from projects import Project, installed

ROOT = Path(__file__).resolve().parents[1]

# Answer profiles, each a realistic team setup; ids read as what they cover.
PROFILES: dict[str, dict[str, str]] = {
    "defaults": {},
    "regression-cpu-s3-mmd": {
        "task": "regression",
        "accelerator": "cpu",
        "dvc_remote": "s3",
        "dvc_remote_url": "s3://ml-data/regression",
        "drift_detector": "mmd",
    },
    "gcs-tabular": {
        "dvc_remote": "gcs",
        "dvc_remote_url": "gs://ml-data/tabular",
        "drift_detector": "tabular",
    },
    "cuda-azure-py312": {
        "project_name": "Churn Radar",
        "accelerator": "cuda",
        "dvc_remote": "azure",
        "dvc_remote_url": "azure://ml-data/churn",
        "python_version": "3.12",
    },
}

FIXED_MAKE_TARGETS = [
    "help",
    "install",
    "lint",
    "format",
    "test",
    "data",
    "train",
    "evaluate",
    "export",
    "repro",
    "serve",
    "predict",
    "bench",
    "drift",
    "simulate-drift",
    "mlflow-ui",
    "docker-train",
    "docker-serve",
    "update-template",
    "all",
]


def render(destination: Path, answers: dict[str, str] | None = None, **kwargs) -> Path:
    """Render the template from the working tree (uncommitted edits included)."""
    copier.run_copy(
        str(ROOT),
        str(destination),
        data=answers or {},
        defaults=True,
        unsafe=True,  # the post-copy task (git init) is ours
        vcs_ref="HEAD",
        quiet=True,
        **kwargs,
    )
    return destination


@pytest.fixture(scope="session", params=list(PROFILES), ids=list(PROFILES))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A project rendered once per profile for the whole session: (answers, path).

    The answers are those copier recorded, defaults included, as the project sees them.
    """
    path = render(tmp_path_factory.mktemp(request.param) / "project", PROFILES[request.param])
    answers = yaml.safe_load((path / ".copier-answers.yml").read_text())
    return answers, path


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The default project, installed once and shared by every end-to-end test in order."""
    return installed(render(tmp_path_factory.mktemp("defaults") / "project"))


@pytest.fixture(scope="session")
def trained_project(default_project: Project) -> Project:
    """The default project after `make repro` (a no-op when an earlier test already ran it)."""
    default_project.make("repro")
    return default_project


@pytest.fixture(scope="session")
def regression_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The regression profile (s3 remote, MMD drift), installed once."""
    profile = "regression-cpu-s3-mmd"
    return installed(render(tmp_path_factory.mktemp(profile) / "project", PROFILES[profile]))


@pytest.fixture(scope="session")
def tabular_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The gcs + tabular-drift profile, installed once."""
    profile = "gcs-tabular"
    return installed(render(tmp_path_factory.mktemp(profile) / "project", PROFILES[profile]))
