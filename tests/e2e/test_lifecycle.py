"""End-to-end tier: the default project runs its whole lifecycle for real.

The default project's own `make lint` and `make test` run as the GitLab `lint` and `test` jobs
(test_gitlab_local.py), so they are not repeated here.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from projects import (
    ON_DEFAULT_PROJECT,
    ON_PROFILE_PROJECTS,
    ROOT,
    Project,
    free_port,
    stages_run,
    wait_for,
)

pytestmark = pytest.mark.e2e
on_default_project = ON_DEFAULT_PROJECT

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
    assert {"git_commit", "data_md5", "promotion_reason", "trigger", "promoted_by"} <= set(
        state["tags"]
    )
    assert {"plots", "preprocessing", "drift_detector"} <= set(state["artifacts"])
    # The audit trail, as `make history` prints it: the one champion, trained by hand.
    history = project.make("history").stdout
    assert "| version | registered | f1_macro | trigger | promotion |" in history
    assert "| 1 |" in history and "| manual |" in history
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
    # code_deps always runs (it lists the code each stage imports); nothing else may.
    assert stages_run(result) == ["code_deps"], result.stdout
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


@ON_PROFILE_PROJECTS
def test_regression_profile_tests_and_lifecycle(regression_project):
    regression_project.make("test")
    regression_project.make("repro")
    state = registry(regression_project)
    assert state["champion"] == state["versions"][-1]
    assert {"test.rmse", "test.r2"} <= set(state["metrics"])
    assert state["tags"]["task"] == "regression"
    # The scale benchmark's target, on a small table (the 1M/10M figures are in CHANGELOG.md).
    regression_project.make("bench-scale", "SCALE_ROWS=3000")
    report = (regression_project.path / "data/08_reporting/scale_benchmark.md").read_text()
    for stage in ("data_processing", "training", "evaluation"):
        assert f"| 3,000 | {stage} |" in report, report


TRAINED_MODULES = """
import json, pickle
from torch import nn
with open("data/06_models/model.pkl", "rb") as file:
    model = pickle.load(file)
print(json.dumps(sorted({type(m).__name__ for m in model.modules()})))
"""


SCHEMA_KINDS = """
import json
from kedro_mlops_kit.schema import load_schema
print(json.dumps(load_schema().kinds))
"""


@ON_PROFILE_PROJECTS
def test_tabular_profile_learns_the_real_table_with_the_team_architecture(tabular_project):
    """A real table as it comes (conftest.py: text categories, missing values, a date, an
    identifier, a text target) and model.py's embedding network: `make repro` infers the schema,
    trains, passes the gate and promotes; test_serving.py exports, serves and queries it."""
    tabular_project.make("repro")
    kinds = tabular_project.run_python(SCHEMA_KINDS)
    assert kinds["Species"] == "target"
    assert kinds["Individual ID"] == "identifier"
    assert kinds["Date Egg"] == "datetime"
    assert kinds["Sex"] == kinds["Island"] == "categorical"
    assert kinds["Culmen Length (mm)"] == "numeric"
    modules = tabular_project.run_python(TRAINED_MODULES)
    assert "EmbeddingNetwork" in modules, modules
    state = registry(tabular_project)
    assert state["champion"] == state["versions"][-1]
    print(f"[e2e] penguins test metrics: {state['metrics']}")
    assert state["metrics"]["test.accuracy"] >= 0.9
    report = json.loads(
        (tabular_project.path / "data/08_reporting/validation_report.json").read_text()
    )
    assert report["identifier_columns"] == ["Individual ID"]
    assert report["missing_values"]["Sex"] > 0


# The S3 remote: moto's S3 server on loopback, in its own venv (in the stack's venv, pip would
# move botocore past aiobotocore's pin). Keys and endpoint go to .dvc/config.local only.
MOTO = ROOT / "build" / "moto"
BUCKET = "ml-data"


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (moto_server) on a free loopback port; yields its URL."""
    if not (MOTO / "bin" / "moto_server").exists():
        uv = shutil.which("uv")
        assert uv, "uv is missing (nox -s e2e installs it)"
        subprocess.run(
            [uv, "venv", "--quiet", "--clear", "--python", "3.11", str(MOTO)], check=True
        )
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(MOTO / "bin" / "python"),
                "moto[server]==5.2.*",
            ],
            check=True,
        )
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    server = subprocess.Popen(
        [str(MOTO / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(url, timeout=2).status == 200, 60, "moto_server")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def s3_keys(url: str, prefix: str) -> list[str]:
    """Object keys under ``prefix`` in the bucket (S3 ListObjectsV2, read as S3 XML)."""
    with urllib.request.urlopen(f"{url}/{BUCKET}?list-type=2&prefix={prefix}") as response:
        tree = ElementTree.fromstring(response.read())
    return [element.text for element in tree.iter() if element.tag.endswith("}Key")]


def use_s3_endpoint(project: Project, url: str, cwd: Path) -> None:
    """Point the `storage` remote at the loopback server, in config.local (never .dvc/config)."""
    for option, value in (
        ("endpointurl", url),
        ("access_key_id", "testing"),
        ("secret_access_key", "testing"),
    ):
        project.dvc("remote", "modify", "--local", "storage", option, value, cwd=cwd)


@ON_PROFILE_PROJECTS
def test_s3_remote_pushes_and_a_fresh_clone_pulls(regression_project, s3_server, tmp_path):
    project = regression_project
    assert "url = s3://ml-data/regression" in (project.path / ".dvc" / "config").read_text()
    project.make("repro")
    request = urllib.request.Request(f"{s3_server}/{BUCKET}", method="PUT")
    assert urllib.request.urlopen(request).status == 200
    use_s3_endpoint(project, s3_server, project.path)
    assert "testing" not in (project.path / ".dvc" / "config").read_text()

    pushed = project.dvc("push")
    print(f"[e2e] dvc push to S3: {pushed.stdout.strip().splitlines()[-1]}")
    keys = s3_keys(s3_server, "regression/")
    raw_md5 = next(
        line.split()[-1]
        for line in (project.path / "data/01_raw/dataset.csv.dvc").read_text().splitlines()
        if "md5:" in line
    )
    assert f"regression/files/md5/{raw_md5[:2]}/{raw_md5[2:]}" in keys, keys
    assert len(keys) >= 6, keys  # raw data, 3 splits, preprocessor, model, detector files

    # A teammate clones the committed project and pulls data and stage outputs back.
    project.commit("Data and pipeline state under DVC", "dvc.lock", "data", "conf/base/schema.yml")
    clone = tmp_path / "clone"
    project.run("git", "clone", "--quiet", str(project.path), str(clone))
    assert not (clone / ".dvc" / "config.local").exists(), "credentials must not travel in git"
    use_s3_endpoint(project, s3_server, clone)
    project.dvc("pull", cwd=clone)
    for path in (
        "data/01_raw/dataset.csv",
        "data/05_model_input/train.parquet",
        "data/05_model_input/test.parquet",
        "data/04_feature/preprocessor.pkl",
        "data/06_models/model.pkl",
    ):
        assert (clone / path).read_bytes() == (project.path / path).read_bytes(), path
