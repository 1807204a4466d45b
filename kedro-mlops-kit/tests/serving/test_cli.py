"""The click commands: options, defaults, JSON output and failure messages."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_mlops_kit import project
from kedro_mlops_kit.serving.cli import serving

from .conftest import MODEL_NAME

COMMANDS = ["export", "serve", "predict", "bench", "rollback"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(serving, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "--help" in result.output


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from kedro_mlops_kit.serving.cli import serving\n"
        "try:\n    serving(['export', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'mlflow', 'tritonclient', 'onnx') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_cli_exports_champion(registry, holdout, tmp_path, tracking_uri, suffix):
    # Raw held-out rows with awkward column names; in CSV, dates are text and missing text is
    # an empty field.
    holdout_file = tmp_path / f"holdout{suffix}"
    if suffix == ".csv":
        holdout.to_csv(holdout_file, index=False)
    else:
        pd.DataFrame(holdout).to_parquet(holdout_file)
    repo = tmp_path / "repo"
    args = ["export", "--model-name", MODEL_NAME, "--holdout", str(holdout_file)]
    args += ["--model-repository", str(repo), "--tracking-uri", tracking_uri]
    result = CliRunner().invoke(serving, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["model_name"], summary["version"]) == (MODEL_NAME, 2)
    assert (summary["n_features"], summary["verified_rows"]) == (6, len(holdout))
    assert (repo / MODEL_NAME / "2" / "model.onnx").is_file()


def test_export_defaults_to_the_projects_model_name(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(project, "default_model_name", lambda: "from_parameters")
    missing = tmp_path / "no-such-holdout.parquet"
    result = CliRunner().invoke(
        serving, ["export", "--holdout", str(missing), "--model-repository", str(tmp_path)]
    )
    # The name reached the registry lookup: the failure names it.
    assert result.exit_code == 1
    assert "Registered model 'from_parameters' has no 'champion' alias" in result.output


def test_export_outside_a_project_asks_for_model_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(serving, ["export", "--holdout", "rows.csv"])
    assert result.exit_code == 1
    assert "not a Kedro project" in result.output
    assert "--model-name NAME" in result.output


def test_export_says_why_it_failed(registry, tmp_path, tracking_uri):
    missing = tmp_path / "no-such-holdout.parquet"
    args = ["export", "--model-name", MODEL_NAME, "--holdout", str(missing)]
    args += ["--model-repository", str(tmp_path / "repo"), "--tracking-uri", tracking_uri]
    result = CliRunner().invoke(serving, args)
    assert result.exit_code == 1
    assert "Error: export failed:" in result.output
    assert "no such file" in result.output


def test_export_of_unknown_alias_names_the_fix(registry, holdout, tmp_path, tracking_uri):
    holdout_file = tmp_path / "holdout.csv"
    holdout.to_csv(holdout_file, index=False)
    args = ["export", "--model-name", MODEL_NAME, "--alias", "nope", "--holdout"]
    args += [str(holdout_file), "--model-repository", str(tmp_path / "repo")]
    result = CliRunner().invoke(serving, args)
    assert result.exit_code == 1
    assert "has no 'nope' alias" in result.output
    assert "set_registered_model_alias" in result.output


def test_rollback_cli_reports_json_and_failures(registry, holdout, fresh_repo, tmp_path):
    from mlflow import MlflowClient

    holdout_file = tmp_path / "holdout.csv"
    holdout.to_csv(holdout_file, index=False)
    client = MlflowClient()
    client.set_registered_model_alias(MODEL_NAME, "champion", "1")
    try:
        args = ["rollback", "--model-name", MODEL_NAME, "--holdout", str(holdout_file)]
        result = CliRunner().invoke(serving, [*args, "--model-repository", str(fresh_repo)])
    finally:
        client.set_registered_model_alias(MODEL_NAME, "champion", "2")
    assert result.exit_code == 1
    assert "Error: rollback failed:" in result.output
    assert "nothing to roll back to" in result.output


def test_serve_without_repository_says_export_first(tmp_path):
    result = CliRunner().invoke(
        serving, ["serve", "--model-repository", str(tmp_path / "none"), "--work-dir", "w"]
    )
    assert result.exit_code == 1
    assert "serve failed:" in result.output
    assert "kedro serving export" in result.output
