"""Shared helpers of the template's tests: answer profiles and rendering from the working tree."""

from __future__ import annotations

import re
from pathlib import Path

import copier
import pytest
import yaml
from projects import Project, installed, kill_processes, triton_processes

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
    """The gcs + tabular-drift profile, installed once, with a team's own architecture.

    Before its first run the team did what model.py invites: one edited file, ``build_model``
    returning an embedding network, over raw data with an integer-coded categorical column
    (``radius_band``, declared in ``categorical_columns``). Every later step (training, the
    tabular drift detector, ONNX export, Triton, predict) runs on that network.
    """
    profile = "gcs-tabular"
    project = installed(render(tmp_path_factory.mktemp(profile) / "project", PROFILES[profile]))
    use_embedding_network(project)
    return project


# The team's model.py: an embedding per categorical column, standardised numeric columns, MLP.
EMBEDDING_MODEL = '''"""The model architecture: embeddings of the categorical codes, then an MLP."""

from __future__ import annotations

from typing import Any

import torch
from kedro_mlops_kit.preprocessor import Preprocessor
from torch import nn


class EmbeddingNetwork(nn.Module):
    """nn.Embedding per categorical column + standardised numeric columns, then a ReLU MLP."""

    def __init__(self, preprocessor: Preprocessor, params: dict[str, Any]) -> None:
        super().__init__()
        features = preprocessor.feature_columns
        numeric = preprocessor.numeric_columns
        index = [features.index(c) for c in numeric]
        self.register_buffer("numeric_index", torch.tensor(index, dtype=torch.long))
        mean = [preprocessor.means[c] for c in numeric]
        std = [preprocessor.stds[c] for c in numeric]
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.categorical_index = [features.index(c) for c in preprocessor.categorical_columns]
        codes = [preprocessor.categories[c] for c in preprocessor.categorical_columns]
        for i, known in enumerate(codes):
            self.register_buffer(f"codes_{i}", torch.tensor(known, dtype=torch.float32))
        # One extra row per table: codes never seen in training share an "unknown" embedding.
        dim = params.get("embedding_dim", 4)
        self.embeddings = nn.ModuleList(nn.Embedding(len(k) + 1, dim) for k in codes)
        width = len(numeric) + dim * len(codes)
        layers: list[nn.Module] = []
        for hidden in params["hidden_sizes"]:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(params["dropout"])]
            width = hidden
        layers.append(nn.Linear(width, preprocessor.n_outputs))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [(x.index_select(1, self.numeric_index) - self.mean) / self.std]
        for i, (column, embedding) in enumerate(zip(self.categorical_index, self.embeddings)):
            known = getattr(self, f"codes_{i}")
            match = (x[:, column : column + 1] == known).to(x.dtype)
            position = match.argmax(dim=1)
            unknown = torch.full_like(position, known.numel())
            parts.append(embedding(torch.where(match.sum(dim=1) > 0, position, unknown)))
        return self.mlp(torch.cat(parts, dim=1))


def build_model(preprocessor: Preprocessor, params: dict[str, Any]) -> nn.Module:
    """Return the embedding network for the fitted preprocessing and ``training`` parameters."""
    return EmbeddingNetwork(preprocessor, params)
'''

# The default raw data plus an integer-coded categorical column (quintile of mean_radius).
CATEGORICAL_RAW_DATA = """
import json
import pandas as pd
from kedro_mlops_kit.data.default_data import build_dataset
frame = build_dataset("classification")
frame.insert(0, "radius_band", pd.qcut(frame["mean_radius"], 5, labels=False))
frame.to_csv("data/01_raw/dataset.csv", index=False)
print(json.dumps(sorted(frame["radius_band"].unique().tolist())))
"""


def use_embedding_network(project: Project) -> None:
    """Swap model.py for the embedding network, over raw data with a categorical column."""
    (project.path / "src" / project.package / "model.py").write_text(EMBEDDING_MODEL)
    assert project.run_python(CATEGORICAL_RAW_DATA) == [0, 1, 2, 3, 4]
    params = project.path / "conf" / "base" / "parameters_data_processing.yml"
    text, count = re.subn(
        r"categorical_columns: \[\]", "categorical_columns: [radius_band]", params.read_text()
    )
    assert count == 1, "parameters_data_processing.yml no longer declares categorical_columns"
    params.write_text(text)
    project.commit("Our own architecture: embeddings of the radius band")


@pytest.fixture(scope="session", autouse=True)
def no_triton_server_left_behind(tmp_path_factory: pytest.TempPathFactory):
    """Fail the session if a tritonserver started under its folders outlives it; kill it.

    Only this session's (this xdist worker's) base temporary folder is searched: other
    sessions on the machine, e.g. the other worker, may still be serving legitimately.
    """
    yield
    root = tmp_path_factory.getbasetemp()
    left = triton_processes(root)
    if left:
        kill_processes(left)
        listing = "\n".join(f"  pid {pid}: {command}" for pid, command in left)
        pytest.fail(
            f"tritonserver processes under {root} outlived the tests (now killed):\n{listing}"
        )


FIGURES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the `[e2e] ...` lines tests print (make install cold/warm, each lifecycle step).

    pytest captures what tests print, xdist workers included, and every report carries it: the
    controller receives the reports here, in the order they finish.
    """
    for title, text in report.sections:
        if title == f"Captured stdout {report.when}":  # later phases repeat earlier ones
            FIGURES.extend(
                f"{line}    ({report.nodeid}, {report.when})"
                for line in text.splitlines()
                if line.startswith("[e2e] ")
            )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the collected `[e2e] ...` figures at the end of the session."""
    if FIGURES:
        terminalreporter.write_sep("=", "end-to-end figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
