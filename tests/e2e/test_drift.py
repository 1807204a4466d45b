"""End-to-end tier: the drift job on a trained project, for every detector the template offers."""

from __future__ import annotations

import json

import pytest
from projects import ON_DEFAULT_PROJECT, ON_PROFILE_PROJECTS

pytestmark = pytest.mark.e2e
on_default_project = ON_DEFAULT_PROJECT

REPORT = "data/08_reporting/drift_report.json"
BATCHES = "data/08_reporting/batches"

WRITE_BATCH = """
import json, pandas as pd
from kedro_mlops_kit.schema import load_schema
raw = pd.read_csv("data/01_raw/dataset.csv").drop(columns=[load_schema().target])
raw = raw.sample(300, random_state=1)
{change}
raw.to_csv("{path}", index=False)
print(json.dumps(list(raw.columns)))
"""


def write_batch(project, path: str, change: str = "") -> None:
    """Write a production-like batch drawn from the raw data, changed by a line of pandas."""
    project.run_python(WRITE_BATCH.format(change=change, path=path))


def report(project) -> dict:
    return json.loads((project.path / REPORT).read_text())


@on_default_project
def test_reference_like_batch_is_not_drift(trained_project):
    write_batch(trained_project, "batch_clean.csv")
    trained_project.make("drift", "BATCH=batch_clean.csv")
    result = report(trained_project)
    assert result["is_drift"] is False, result["drifted_features"]
    assert result["detector"] == "ks"
    assert result["model_version"] == "1"
    for name in ("drift_report.png", "drift_report.md"):
        assert (trained_project.path / "data" / "08_reporting" / name).is_file()


SHIFT = 'raw["mean_radius"] += 3 * raw["mean_radius"].std()'


@on_default_project
def test_shifted_feature_is_drift_and_named(trained_project):
    write_batch(trained_project, "batch_shifted.csv", SHIFT)
    result = trained_project.make("drift", "BATCH=batch_shifted.csv")
    assert "DRIFT" in result.stdout
    drift = report(trained_project)
    assert drift["is_drift"] is True
    assert drift["drifted_features"][0] == "mean_radius"
    assert drift["features"]["mean_radius"]["is_drift"] is True


@on_default_project
def test_fail_on_drift_exits_non_zero(trained_project):
    write_batch(trained_project, "batch_shifted.csv", SHIFT)
    result = trained_project.make(
        "drift", "BATCH=batch_shifted.csv", "FAIL_ON_DRIFT=1", check=False
    )
    assert result.returncode != 0
    assert "DRIFT" in result.stdout


@on_default_project
def test_batch_missing_a_column_is_refused_by_name(trained_project):
    write_batch(trained_project, "batch_missing.csv", 'raw = raw.drop(columns=["mean_texture"])')
    result = trained_project.make("drift", "BATCH=batch_missing.csv", check=False)
    assert result.returncode != 0
    assert "mean_texture" in result.stderr


@on_default_project
def test_batch_with_a_header_and_no_rows_is_called_empty(trained_project):
    write_batch(trained_project, "batch_empty.csv", "raw = raw.iloc[:0]")
    result = trained_project.make("drift", "BATCH=batch_empty.csv", check=False)
    assert result.returncode != 0
    assert "is empty: it has a header" in result.stderr
    assert "not numeric" not in result.stderr


@on_default_project
def test_batch_with_text_in_a_numeric_column_names_column_and_rows(trained_project):
    change = 'raw = raw.astype({"mean_texture": object}); raw.iloc[[2, 5], 1] = "n/a"'
    write_batch(trained_project, "batch_text.csv", change)
    result = trained_project.make("drift", "BATCH=batch_text.csv", check=False)
    assert result.returncode != 0
    assert "'mean_texture'" in result.stderr and "rows 2, 5" in result.stderr


@pytest.mark.parametrize(
    "fixture",
    [
        pytest.param("regression_project", marks=ON_PROFILE_PROJECTS),
        pytest.param("tabular_project", marks=ON_PROFILE_PROJECTS),
    ],
)
def test_other_detectors_flag_the_simulated_shift(request, fixture):
    """mmd (regression profile) and tabular (tabular profile, with a categorical column and the
    team's embedding network, see conftest.py) on the shifted batch `make simulate-drift` writes."""
    project = request.getfixturevalue(fixture)
    project.make("repro")
    project.make("simulate-drift")
    result = project.make("drift", f"BATCH={BATCHES}/shifted.csv")
    assert "DRIFT" in result.stdout
    drift = report(project)
    assert drift["detector"] == project.answers["drift_detector"]
    assert drift["is_drift"] is True
    for name in ("drift_report.png", "drift_report.md"):
        assert (project.path / "data" / "08_reporting" / name).is_file()
    simulated = json.loads((project.path / BATCHES / "simulation.json").read_text())
    assert set(simulated["mean_shifted_features"]) & set(drift["drifted_features"])
