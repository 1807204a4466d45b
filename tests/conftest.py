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
    """The gcs + tabular-drift profile on a real table, with a team's own architecture.

    Before its first run the team brought its own data and did what model.py invites: the raw
    table is the Palmer penguins table as published (palmerpenguins package, CC0: text
    categories, missing values, an ISO date, an identifier, a three-class text target), the
    target parameter names ``Species``, and ``build_model`` returns an embedding network. Every
    later step (schema, training, the tabular drift detector, ONNX export, Triton, predict) runs
    on that table and network.
    """
    profile = "gcs-tabular"
    project = installed(render(tmp_path_factory.mktemp(profile) / "project", PROFILES[profile]))
    use_real_table_and_embedding_network(project)
    return project


# The team's model.py: an embedding per categorical column (a bias-free linear layer on its
# one-hot block is an embedding lookup), the other preprocessed inputs as they are, then an MLP.
EMBEDDING_MODEL = '''"""The model architecture: category embeddings, then an MLP."""

from __future__ import annotations

from typing import Any

import torch
from kedro_mlops_kit.preprocessor import Preprocessor
from torch import nn


class EmbeddingNetwork(nn.Module):
    """An embedding per categorical column + the other inputs, then a ReLU MLP."""

    def __init__(self, preprocessor: Preprocessor, params: dict[str, Any]) -> None:
        super().__init__()
        names = preprocessor.feature_names
        blocks = [
            [i for i, name in enumerate(names) if name.startswith(f"{column}=")]
            for column in preprocessor.categorical_columns
        ]
        in_blocks = {i for block in blocks for i in block}
        others = [i for i in range(len(names)) if i not in in_blocks]
        self.register_buffer("others", torch.tensor(others, dtype=torch.long))
        for i, block in enumerate(blocks):
            self.register_buffer(f"block_{i}", torch.tensor(block, dtype=torch.long))
        dim = params.get("embedding_dim", 4)
        self.embeddings = nn.ModuleList(nn.Linear(len(b), dim, bias=False) for b in blocks)
        width = len(others) + dim * len(blocks)
        layers: list[nn.Module] = []
        for hidden in params["hidden_sizes"]:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(params["dropout"])]
            width = hidden
        layers.append(nn.Linear(width, preprocessor.n_outputs))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [x.index_select(1, self.others)]
        for i, embedding in enumerate(self.embeddings):
            parts.append(embedding(x.index_select(1, getattr(self, f"block_{i}"))))
        return self.mlp(torch.cat(parts, dim=1))


def build_model(preprocessor: Preprocessor, params: dict[str, Any]) -> nn.Module:
    """Return the embedding network for the fitted preprocessing and ``training`` parameters."""
    return EmbeddingNetwork(preprocessor, params)
'''

# The real table, as its package ships it.
REAL_RAW_DATA = """
import json
from pathlib import Path
import pandas as pd
from kedro_mlops_kit.data.default_data import write_penguins
write_penguins(Path("data/01_raw/dataset.csv"))
frame = pd.read_csv("data/01_raw/dataset.csv")
print(json.dumps([len(frame), sorted(frame["Species"].unique().tolist())]))
"""


def use_real_table_and_embedding_network(project: Project) -> None:
    """The team's own table (target ``Species``) and model.py's embedding network."""
    (project.path / "src" / project.package / "model.py").write_text(EMBEDDING_MODEL)
    rows, species = project.run_python(REAL_RAW_DATA)
    assert rows == 344 and len(species) == 3, (rows, species)
    params = project.path / "conf" / "base" / "parameters_data_processing.yml"
    text, count = re.subn(r"\n  target: target\n", "\n  target: Species\n", params.read_text())
    assert count == 1, "parameters_data_processing.yml no longer names the target"
    params.write_text(text)
    project.commit("Our own table (penguins) and architecture (embeddings)")


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
