"""End-to-end tier: the default project runs its whole lifecycle for real.

The default project's own `make lint` and `make test` run as the GitLab `lint` and `test` jobs
(test_gitlab_local.py), so they are not repeated here.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from projects import Project

# One xdist group per project (one worker, in order), one group mark per test.
pytestmark = pytest.mark.e2e
on_default_project = pytest.mark.xdist_group("default")

REGISTRY_QUERY = """
import json, os
from mlflow import MlflowClient
client = MlflowClient(os.environ.get("MLFLOW_TRACKING_URI", "{uri}"))
name = "{model}"
versions = client.search_model_versions(f"name='{{name}}'")
champion = client.get_model_version_by_alias(name, "champion") if versions else None
run = client.get_run(champion.run_id) if champion else None
print(json.dumps({{
    "versions": sorted(int(v.version) for v in versions),
    "champion": int(champion.version) if champion else None,
    "metrics": run.data.metrics if run else {{}},
    "params": run.data.params if run else {{}},
    "tags": run.data.tags if run else {{}},
    "artifacts": [a.path for a in client.list_artifacts(run.info.run_id)] if run else [],
}}))
"""


def registry(project: Project) -> dict:
    """What the project's MLflow registry holds for its model, read with MLflow's client."""
    return project.run_python(
        REGISTRY_QUERY.format(
            uri=project.answers["mlflow_tracking_uri"], model=project.answers["model_name"]
        )
    )


def drop_column(path, column: str) -> None:
    """Rewrite a CSV file without one of its columns, as a broken upstream export would."""
    with path.open(newline="") as source:
        rows = list(csv.DictReader(source))
    with path.open("w", newline="") as target:
        writer = csv.DictWriter(target, [c for c in rows[0] if c != column], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def project(default_project) -> Project:
    return default_project


@on_default_project
def test_repro_trains_tracks_and_registers(project):
    project.make("repro")
    state = registry(project)
    assert state["versions"] == [1]
    assert state["champion"] == 1, "a model that passes the gate on an empty registry is champion"
    assert {"test.accuracy", "test.f1_macro", "epoch.val_loss"} <= set(state["metrics"])
    assert any(key.startswith("training.") for key in state["params"])
    assert {"git_commit", "data_md5", "promotion_reason"} <= set(state["tags"])
    assert {"plots", "preprocessing", "drift_detector"} <= set(state["artifacts"])
    reports = project.path / "data" / "08_reporting"
    for report in (
        "test_metrics.json",
        "quality_gate.json",
        "promotion.json",
        "test_diagnostics.png",
        "training_curves.png",
    ):
        assert (reports / report).is_file(), report


@on_default_project
def test_second_repro_is_a_noop(project):
    result = project.make("repro")
    assert "Running stage" not in result.stdout, result.stdout
    print(f"[e2e] no-op make repro: {result.seconds:.1f} s")


@on_default_project
def test_missing_target_column_stops_and_registers_nothing(project):
    raw = project.path / "data" / "01_raw" / "dataset.csv"
    backup = raw.with_suffix(".bak")
    shutil.copy(raw, backup)
    try:
        drop_column(raw, "target")
        result = project.make("repro", check=False)
        assert result.returncode != 0
        assert "target" in result.stdout + result.stderr
        assert "DataValidationError" in result.stdout + result.stderr
        assert registry(project)["versions"] == [1], "nothing may be registered from bad data"
    finally:
        shutil.move(backup, raw)
    # DVC removed the failed stage's outputs; with the data fixed, one repro brings them back
    # from its run cache without retraining.
    recovered = project.make("repro")
    assert "cached - skipping run" in recovered.stdout, recovered.stdout
    assert (project.path / "data" / "05_model_input" / "test.parquet").is_file()
    assert registry(project)["versions"] == [1]


@pytest.mark.xdist_group("regression")
def test_regression_profile_tests_and_lifecycle(regression_project):
    regression_project.make("test")
    regression_project.make("repro")
    state = registry(regression_project)
    assert state["champion"] == state["versions"][-1]
    assert {"test.rmse", "test.r2"} <= set(state["metrics"])
    assert state["tags"]["task"] == "regression"
