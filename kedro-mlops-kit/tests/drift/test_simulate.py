import json

import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_mlops_kit.drift.cli import drift
from kedro_mlops_kit.drift.simulate import simulate_batches
from kedro_mlops_kit.schema import infer_schema

from .conftest import CATEGORICAL


def test_simulation_is_deterministic_and_shifts_what_it_says(reference, feature_columns):
    first = simulate_batches(reference, feature_columns, CATEGORICAL, n_rows=500, seed=7)
    again = simulate_batches(reference, feature_columns, CATEGORICAL, n_rows=500, seed=7)
    pd.testing.assert_frame_equal(first.shifted, again.shifted)
    pd.testing.assert_frame_equal(first.reference_like, again.reference_like)
    assert len(first.mean_shifted_features) == 3
    assert len(first.scaled_features) == 1
    assert not set(first.shifted_features) & set(CATEGORICAL)
    for column in first.mean_shifted_features:
        moved = first.shifted[column].mean() - reference[column].mean()
        assert moved > 0.5 * reference[column].std()
    scaled = first.scaled_features[0]
    assert first.shifted[scaled].std() > 1.5 * reference[scaled].std()


def test_a_narrow_table_shifts_what_it_has(reference):
    narrow = simulate_batches(reference, ["mean radius", "mean area", "size_band"], CATEGORICAL)
    assert len(narrow.mean_shifted_features) == 1
    assert len(narrow.scaled_features) == 1
    assert set(narrow.shifted_features) == {"mean radius", "mean area"}
    single = simulate_batches(reference, ["mean radius", "size_band"], CATEGORICAL)
    assert single.mean_shifted_features == ["mean radius"]
    assert single.scaled_features == []


def test_a_table_without_numbers_cannot_be_shifted(reference):
    with pytest.raises(ValueError, match="no numeric feature column"):
        simulate_batches(reference, ["size_band"], CATEGORICAL)


def _schema_file(reference, path):
    # size_band is integer-coded: inferred integer, declared a category (never shifted).
    table = reference.assign(target=0)
    schema = infer_schema(table, "target", {"size_band": "categorical"})
    path.write_text(schema.to_yaml())
    return table


def test_command_writes_both_batches_from_the_raw_data(reference, feature_columns, tmp_path):
    raw, schema = tmp_path / "dataset.csv", tmp_path / "schema.yml"
    _schema_file(reference, schema).to_csv(raw, index=False)
    out = tmp_path / "batches"
    argv = ["simulate", "--raw-data", str(raw), "--schema", str(schema)]
    result = CliRunner().invoke(drift, [*argv, "--output", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output

    record = json.loads((out / "simulation.json").read_text())
    expected = simulate_batches(reference, feature_columns, CATEGORICAL, seed=3)
    assert record["mean_shifted_features"] == expected.mean_shifted_features
    assert record["scaled_features"] == expected.scaled_features
    assert record["seed"] == 3
    shifted = pd.read_csv(out / "shifted.csv")
    assert list(shifted.columns) == feature_columns, "features only, as production sends them"
    assert len(pd.read_csv(out / "reference_like.csv")) == len(reference)
    assert f"Wrote {out}/reference_like.csv and {out}/shifted.csv (shifted: " in result.stdout


def test_command_on_a_mixed_table_shifts_numbers_only(mixed_reference, tmp_path):
    raw, schema = tmp_path / "dataset.csv", tmp_path / "schema.yml"
    mixed_reference.to_csv(raw, index=False)
    schema.write_text(infer_schema(mixed_reference, "target").to_yaml())
    out = tmp_path / "batches"
    argv = ["simulate", "--raw-data", str(raw), "--schema", str(schema), "--output", str(out)]
    result = CliRunner().invoke(drift, argv)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "simulation.json").read_text())
    assert set(record["mean_shifted_features"] + record["scaled_features"]) <= {
        "x1",
        "visits",
        "x2",
    }
    shifted = pd.read_csv(out / "shifted.csv")
    assert "target" not in shifted.columns
    assert set(shifted["colour"].dropna()) <= {"red", "green", "blue"}
    assert shifted["x2"].isna().any(), "missing values are resampled, not filled"


@pytest.mark.parametrize("absent", ["dataset.csv", "schema.yml"])
def test_command_without_its_inputs_says_what_to_run(reference, tmp_path, absent):
    raw, schema = tmp_path / "dataset.csv", tmp_path / "schema.yml"
    _schema_file(reference, schema).to_csv(raw, index=False)
    (tmp_path / absent).unlink()
    argv = ["simulate", "--raw-data", str(raw), "--schema", str(schema)]
    result = CliRunner().invoke(drift, argv)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path / absent} is missing: run `make schema` (and `make data`) first\n"
    )
