"""`kedro drift check`, run for real: it starts the Kedro pipeline `drift` of the project.

The project is a minimal Kedro project in a temporary folder (see conftest.py) with its own
sqlite MLflow store, so the tests never touch a tracking server or a checkout's data.
"""

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from kedro_mlops_kit import project as kit_project
from kedro_mlops_kit.drift import cli
from kedro_mlops_kit.drift.detectors import save_detector_bundle
from kedro_mlops_kit.drift.simulate import simulate_batches

from .conftest import CATEGORICAL, PROJECT_MODEL_NAME


@pytest.fixture(scope="module")
def detector_dir(ks_bundle, tmp_path_factory):
    return save_detector_bundle(ks_bundle, tmp_path_factory.mktemp("detector"))


@pytest.fixture(scope="module")
def batches(reference, feature_columns, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batches")
    sim = simulate_batches(reference, feature_columns, CATEGORICAL, n_rows=400, seed=0)
    sim.reference_like.to_csv(folder / "quiet.csv", index=False)
    sim.shifted.to_parquet(folder / "shifted.parquet", index=False)
    sim.shifted.drop(columns=["mean area"]).to_csv(folder / "broken.csv", index=False)
    return folder


def _check(*argv):
    return CliRunner().invoke(cli.drift, ["check", *map(str, argv)], catch_exceptions=False)


def _run(detector_dir, batch, out, *extra):
    return _check("--batch", batch, "--detector-dir", detector_dir, "--output-dir", out, *extra)


def test_quiet_batch_exits_0_and_writes_report(kedro_project, detector_dir, batches, tmp_path):
    result = _run(detector_dir, batches / "quiet.csv", tmp_path, "--fail-on-drift")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "drift_report.json").read_text())
    assert report["is_drift"] is False
    assert (tmp_path / "drift_report.png").is_file()
    assert (tmp_path / "drift_report.md").is_file()
    assert "no drift (ks); drifted features: -" in result.stdout


def test_drift_exits_0_by_default_and_3_with_fail_on_drift(
    kedro_project, detector_dir, batches, tmp_path
):
    batch = batches / "shifted.parquet"
    assert _run(detector_dir, batch, tmp_path, "--model-version", "9").exit_code == 0
    assert json.loads((tmp_path / "drift_report.json").read_text())["model_version"] == "9"
    result = _run(detector_dir, batch, tmp_path, "--fail-on-drift")
    assert result.exit_code == cli.EXIT_DRIFT == 3
    report = json.loads((tmp_path / "drift_report.json").read_text())
    assert report["is_drift"] is True
    # Failing on drift still leaves the whole report behind.
    assert (tmp_path / "drift_report.md").read_text().startswith("# Drift report")
    assert f"DRIFT (ks); drifted features: {report['drifted_features'][0]}" in result.stdout
    assert f"report: {tmp_path / 'drift_report.json'}" in result.stdout


def test_schema_error_exits_2_with_message(kedro_project, detector_dir, batches, tmp_path):
    result = _run(detector_dir, batches / "broken.csv", tmp_path)
    assert result.exit_code == 2
    assert "error: Batch is missing feature column(s) ['mean area']" in result.stderr
    assert not (tmp_path / "drift_report.json").exists()


def test_unreadable_inputs_exit_2(kedro_project, detector_dir, batches, tmp_path):
    results = [
        _run(detector_dir, tmp_path / "batch.txt", tmp_path),
        _run(detector_dir, tmp_path / "absent.csv", tmp_path),
        _run(tmp_path / "no-bundle", batches / "quiet.csv", tmp_path),
    ]
    assert [result.exit_code for result in results] == [2, 2, 2]
    assert "suffix '.txt'" in results[0].stderr
    assert "absent.csv' does not exist" in results[1].stderr
    assert "error: No drift detector bundle" in results[2].stderr


def test_missing_champion_exits_2_and_says_what_to_run(kedro_project, batches, tmp_path):
    # No --detector-dir: the champion of the (empty) MLflow registry is asked for, by default
    # of the model the project's evaluation.model_name parameter names.
    argv = ["--batch", batches / "quiet.csv", "--output-dir", tmp_path]
    result = _check(*argv)
    assert result.exit_code == 2
    assert f"No 'champion' version of model '{PROJECT_MODEL_NAME}'" in result.stderr
    assert "make repro" in result.stderr
    result = _check(*argv, "--model-name", "no_such_model")
    assert result.exit_code == 2
    assert "No 'champion' version of model 'no_such_model'" in result.stderr


def test_no_model_name_anywhere_exits_2_unless_a_bundle_is_given(
    kedro_project, detector_dir, batches, tmp_path, monkeypatch
):
    monkeypatch.setattr(kit_project, "project_parameters", lambda *args, **kwargs: {})
    result = _check("--batch", batches / "quiet.csv", "--output-dir", tmp_path)
    assert result.exit_code == 2
    assert "pass --model-name NAME or set it in" in result.stderr
    # A local bundle belongs to no registered model: no name is needed.
    assert _run(detector_dir, batches / "quiet.csv", tmp_path).exit_code == 0


def test_outside_a_project_exits_2(detector_dir, batches, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run(detector_dir, batches / "quiet.csv", tmp_path)
    assert result.exit_code == 2
    assert "is not the project root (no pyproject.toml)" in result.stderr


def test_options_become_runtime_params_and_unset_ones_are_left_out(
    kedro_project, tmp_path, monkeypatch
):
    seen = []
    monkeypatch.setattr(cli, "_run_pipeline", lambda params, project_dir: seen.append(params))
    monkeypatch.setattr(cli, "_print_verdict", lambda output_dir: None)
    batch = tmp_path / "b.csv"
    batch.write_text("a\n1\n")
    assert _check("--batch", batch).exit_code == 0
    argv = ["--detector-dir", "d", "--model-version", "4", "--model-name", "m", "--fail-on-drift"]
    assert _check("--batch", batch, *argv).exit_code == 0
    assert seen == [
        # The model name defaults to the project's evaluation.model_name parameter.
        {"batch": str(batch), "report_dir": "data/08_reporting", "model_name": PROJECT_MODEL_NAME},
        {
            "batch": str(batch),
            "report_dir": "data/08_reporting",
            "detector_dir": "d",
            "model_version": "4",
            "model_name": "m",
            "drift": {"fail_on_drift": True},
        },
    ]


def test_commands_of_the_group():
    assert isinstance(cli.drift, click.Group)
    assert cli.drift.name == "drift"
    assert sorted(cli.drift.commands) == ["bench", "check", "simulate", "trigger"]
    result = CliRunner().invoke(cli.drift, ["check", "--help"])
    assert result.exit_code == 0
    for option in ("--batch", "--detector-dir", "--output-dir", "--model-version"):
        assert option in result.stdout
    assert "--model-name" in result.stdout and "--fail-on-drift" in result.stdout
    assert "3 drift with --fail-on-drift" in result.stdout


# Runs the group in a fresh interpreter: --help and a bad batch path must return before pandas,
# Kedro, MLflow or alibi-detect are imported, so that both stay instant.
_FAST_PATH = """
import sys
from kedro_mlops_kit.drift.cli import drift
try:
    drift.main({argv!r}, prog_name="kedro drift")
except SystemExit as exit:
    heavy = [m for m in ("pandas", "kedro.framework.session", "mlflow", "alibi_detect")
             if m in sys.modules]
    sys.exit(100 if heavy else exit.code)
"""


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], 0),
        (["check", "--help"], 0),
        (["bench", "--help"], 0),
        (["check", "--batch", "absent.csv"], 2),
    ],
)
def test_help_and_bad_batch_path_stay_light(argv, code, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _FAST_PATH.format(argv=argv)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == code, result.stderr
    if code == 2:
        assert result.stderr == "error: Batch file 'absent.csv' does not exist\n"


def test_kedro_runs_the_group_as_a_project_command_with_its_exit_codes(kedro_project):
    # The plugin's entry point adds `drift` to the project's `kedro` command; Kedro's own CLI
    # passes the command's exit code through.
    kedro = [sys.executable, "-c", "from kedro.framework.cli import main; main()"]
    result = subprocess.run(
        [*kedro, "drift", "check", "--batch", "absent.csv"],
        capture_output=True,
        text=True,
        cwd=kedro_project,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "error: Batch file 'absent.csv' does not exist" in result.stderr
