import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_mlops_kit.data.cli import data
from kedro_mlops_kit.data.default_data import build_dataset, snake_case


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mean radius", "mean_radius"),
        ("worst concave points", "worst_concave_points"),
        ("S1", "s1"),
        ("2nd-value (cm)", "f_2nd_value_cm"),
    ],
)
def test_snake_case(raw, expected):
    assert snake_case(raw) == expected


@pytest.mark.parametrize(("task", "rows"), [("classification", 569), ("regression", 442)])
def test_dataset_has_identifier_columns_and_target(task, rows):
    frame = build_dataset(task)
    assert frame.shape[0] == rows
    assert frame.columns[-1] == "target"
    assert all(c.isidentifier() and c == c.lower() for c in frame.columns)


def _default(*argv):
    return CliRunner().invoke(data, ["default", *map(str, argv)], catch_exceptions=False)


def test_command_reads_the_task_from_the_project_parameters(kedro_project, tmp_path):
    kedro_project("regression")
    result = _default()
    assert result.exit_code == 0, result.output
    written = tmp_path / "data" / "01_raw" / "dataset.csv"
    assert "Wrote 442 rows x 11 columns (regression) to data/01_raw/dataset.csv" in result.stdout
    frame = pd.read_csv(written)
    assert frame.shape == (442, 11)
    # --task overrides the parameters; --output names the file.
    assert _default("--task", "regression", "--output", tmp_path / "d.csv").exit_code == 0
    assert frame.equals(pd.read_csv(tmp_path / "d.csv"))
    assert _default("--task", "classification", "--output", written).exit_code == 0
    assert pd.read_csv(written).shape == (569, 31)


def test_command_without_a_task_parameter_says_how_to_set_it(kedro_project):
    kedro_project(None)
    result = CliRunner().invoke(data, ["default"])
    assert result.exit_code == 1
    assert "The project has no data_processing.task parameter" in result.stderr
    assert "--task" in result.stderr


def test_command_rejects_an_unknown_task(kedro_project):
    kedro_project("ranking")
    result = CliRunner().invoke(data, ["default"])
    assert result.exit_code == 1
    assert "Unknown task 'ranking'" in result.stderr
    result = CliRunner().invoke(data, ["default", "--task", "ranking"])
    assert result.exit_code == 2


def test_command_outside_a_project_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(data, ["default"])
    assert result.exit_code == 1
    assert "is not a Kedro project (no pyproject.toml)" in result.stderr


def test_group_commands_are_kedro_project_commands():
    from kedro_mlops_kit.cli import commands

    assert data.name == "data"
    assert sorted(data.commands) == ["bench-scale", "default", "raw", "schema"]
    assert commands.commands["data"] is data


def test_penguins_dataset_is_the_published_raw_table(tmp_path):
    output = tmp_path / "raw" / "penguins.csv"
    result = _default("--dataset", "penguins", "--output", output)
    assert result.exit_code == 0, result.output
    assert "(target: Species)" in result.stdout
    frame = pd.read_csv(output)
    assert frame.shape == (344, 17)
    assert {"Species", "Individual ID", "Date Egg", "Sex", "Comments"} <= set(frame.columns)
    assert frame["Sex"].isna().any()
