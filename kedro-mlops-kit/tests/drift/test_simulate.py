import json

import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_mlops_kit.drift.cli import drift
from kedro_mlops_kit.drift.simulate import simulate_batches

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


def test_simulation_refuses_more_shifts_than_numeric_features(reference):
    with pytest.raises(ValueError, match="only 2 numeric"):
        simulate_batches(reference, ["mean radius", "mean area", "size_band"], CATEGORICAL)


def test_command_writes_both_batches_from_the_raw_data(reference, feature_columns, tmp_path):
    raw, preprocessor = tmp_path / "dataset.csv", tmp_path / "preprocessor.json"
    reference.assign(target=0).to_csv(raw, index=False)
    schema = {"feature_columns": feature_columns, "categorical_columns": CATEGORICAL}
    preprocessor.write_text(json.dumps(schema))
    out = tmp_path / "batches"
    argv = ["simulate", "--raw-data", str(raw), "--preprocessor", str(preprocessor)]
    result = CliRunner().invoke(drift, [*argv, "--output", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output

    record = json.loads((out / "simulation.json").read_text())
    expected = simulate_batches(reference, feature_columns, CATEGORICAL, seed=3)
    assert record["mean_shifted_features"] == expected.mean_shifted_features
    shifted = pd.read_csv(out / "shifted.csv")
    assert list(shifted.columns) == feature_columns, "features only, as production sends them"
    assert len(pd.read_csv(out / "reference_like.csv")) == len(reference)
    assert f"Wrote {out}/reference_like.csv and {out}/shifted.csv (shifted: " in result.stdout


def test_command_without_a_preprocessor_says_what_to_run(tmp_path):
    (tmp_path / "dataset.csv").write_text("a,target\n1,0\n")
    argv = ["--raw-data", str(tmp_path / "dataset.csv")]
    absent = tmp_path / "preprocessor.json"
    result = CliRunner().invoke(drift, ["simulate", *argv, "--preprocessor", str(absent)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {absent} is missing: run `make data` first\n"
