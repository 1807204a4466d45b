"""End-to-end tier: data-parallel training that logs to a team MLflow server on loopback.

The project's own `make mlflow-server` starts a real tracking server (database backend and
artifact store); `make train NPROC=2` trains on two torchrun processes, and `make evaluate`
logs and registers through MLFLOW_TRACKING_URI, exactly as a team's CI job would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request

import pytest
from projects import ON_PROFILE_PROJECTS, Project, free_port, user_env, wait_for

pytestmark = [pytest.mark.e2e, ON_PROFILE_PROJECTS]

TEAM_REGISTRY = """
import json
from mlflow import MlflowClient
client = MlflowClient()
experiment = client.get_experiment_by_name("{model}")
runs = client.search_runs([experiment.experiment_id]) if experiment else []
champion = client.get_model_version_by_alias("{model}", "champion")
artifacts = client.list_artifacts(champion.run_id, "plots")
print(json.dumps({{
    "runs": len(runs),
    "tags": runs[0].data.tags if runs else {{}},
    "champion": champion.version,
    "plots": [a.path for a in artifacts],
}}))
"""
LOCAL_VERSIONS = """
import json
from mlflow import MlflowClient
versions = MlflowClient().search_model_versions("name='{model}'")
print(json.dumps(sorted(int(v.version) for v in versions)))
"""


@pytest.fixture(scope="module")
def team_server(regression_project: Project, tmp_path_factory):
    """`make mlflow-server` in the background on a free port; yields its tracking URI."""
    port = free_port()
    folder = tmp_path_factory.mktemp("team-mlflow")
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        ["make", "mlflow-server", f"MLFLOW_PORT={port}", f"MLFLOW_SERVER_DIR={folder}"],
        cwd=regression_project.path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=user_env(),
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        seconds = wait_for(
            lambda: urllib.request.urlopen(f"{uri}/health", timeout=2).status == 200,
            timeout=120,
            what=f"the MLflow server on {uri} (log: {folder / 'server.log'})",
        )
        print(f"[e2e] mlflow server ready after {seconds:.1f} s")
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_data_parallel_training_logs_one_run_to_the_team_server(regression_project, team_server):
    project, model = regression_project, regression_project.answers["model_name"]
    local_before = project.run_python(LOCAL_VERSIONS.format(model=model))
    team = {"MLFLOW_TRACKING_URI": team_server}

    project.make("data")
    project.make("train", "NPROC=2", env=team)
    history = json.loads((project.path / "data/06_models/training_history.json").read_text())
    assert {epoch["processes"] for epoch in history} == {2}
    project.make("evaluate", env=team)

    state = project.run_python(TEAM_REGISTRY.format(model=model), env=team)
    assert state["runs"] == 1, "only rank 0 may log, and only the evaluation run is tracked"
    assert state["tags"]["training_processes"] == "2"
    assert state["champion"] == "1", "an empty team registry promotes its first good model"
    assert {"plots/test_diagnostics.png", "plots/training_curves.png"} <= set(state["plots"])
    # The team server got the run and the model; the project's own sqlite store did not.
    assert project.run_python(LOCAL_VERSIONS.format(model=model)) == local_before
