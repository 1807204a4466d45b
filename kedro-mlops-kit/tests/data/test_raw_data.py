"""`kedro data raw`: each state of a project's raw data, with DVC replaced by a recorder."""

import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_mlops_kit.data import raw_data
from kedro_mlops_kit.data.cli import data

RAW = "data/01_raw/dataset.csv"


@pytest.fixture
def dvc_calls(monkeypatch):
    """Record DVC's arguments; ``fail`` maps a subcommand to the stderr it fails with."""
    calls, fail = [], {}

    def fake_dvc(*args):
        calls.append(list(args))
        if args[0] in fail:
            return subprocess.CompletedProcess(["dvc", *args], 1, "", fail[args[0]])
        if args[0] == "pull":
            (raw := raw_data.Path(args[1]).with_suffix("")).write_text("x,target\n1,0\n")
            assert raw.name == "dataset.csv"
        return subprocess.CompletedProcess(["dvc", *args], 0, "", "")

    monkeypatch.setattr(raw_data, "dvc", fake_dvc)
    return calls, fail


def _raw():
    return CliRunner().invoke(data, ["raw"], catch_exceptions=False)


def test_new_project_gets_the_default_dataset_for_its_task(kedro_project, dvc_calls):
    kedro_project("classification")
    result = _raw()
    assert result.exit_code == 0, result.output
    assert pd.read_csv(RAW).shape == (569, 31)
    assert dvc_calls[0] == [["add", RAW]]
    assert f"Wrote the default dataset to {RAW} and tracked it with DVC." in result.stdout


def test_present_file_is_tracked_once(kedro_project, dvc_calls, tmp_path):
    kedro_project("classification")
    (tmp_path / "data" / "01_raw").mkdir(parents=True)
    (tmp_path / RAW).write_text("x,target\n1,0\n")
    assert "is now tracked by DVC" in _raw().stdout
    (tmp_path / f"{RAW}.dvc").write_text("outs: []\n")
    assert "is in place and tracked by DVC" in _raw().stdout
    assert dvc_calls[0] == [["add", RAW]]
    assert (tmp_path / RAW).read_text() == "x,target\n1,0\n", "a team's data is never replaced"


def test_fresh_clone_pulls_and_a_failed_pull_says_what_to_check(kedro_project, dvc_calls, tmp_path):
    kedro_project("classification")
    calls, fail = dvc_calls
    (tmp_path / "data" / "01_raw").mkdir(parents=True)
    (tmp_path / f"{RAW}.dvc").write_text("outs: []\n")
    fail["pull"] = "ERROR: failed to pull data from the cloud"
    result = CliRunner().invoke(data, ["raw"])
    assert result.exit_code == 1
    assert "`dvc pull` could not fetch it" in result.stderr
    assert "failed to pull data from the cloud" in result.stderr
    del fail["pull"]
    result = _raw()
    assert result.exit_code == 0
    assert f"Fetched {RAW} from the DVC remote." in result.stdout
    assert calls == [["pull", f"{RAW}.dvc"], ["pull", f"{RAW}.dvc"]]


def test_failed_add_is_exit_1_with_dvcs_message(kedro_project, dvc_calls, tmp_path):
    kedro_project("regression")
    dvc_calls[1]["add"] = "ERROR: not a DVC repository"
    result = CliRunner().invoke(data, ["raw", "--path", "other.csv"])
    assert result.exit_code == 1
    assert "error: `dvc add other.csv` failed:\nERROR: not a DVC repository" in result.stderr
    assert pd.read_csv(tmp_path / "other.csv").shape == (442, 11)
