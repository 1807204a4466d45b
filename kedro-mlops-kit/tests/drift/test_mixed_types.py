"""Drift on raw mixed-type rows: text categories, dates, booleans, missing values, identifiers.

Batches go through a CSV file, as production sends them: text stays text, dates are ISO text.
"""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kedro_mlops_kit.drift import cli
from kedro_mlops_kit.drift.dataset import ModelDetector, ProductionBatch
from kedro_mlops_kit.drift.detectors import (
    detect,
    fit_detector,
    load_detector_bundle,
    save_detector_bundle,
)
from kedro_mlops_kit.drift.encoding import DriftEncoding, missing_rates
from kedro_mlops_kit.drift.nodes import validate_production_batch
from kedro_mlops_kit.drift.report import run_drift_check, write_report
from kedro_mlops_kit.drift.schema import (
    EmptyBatchError,
    SchemaError,
    load_batch,
    validate_raw_batch,
)
from kedro_mlops_kit.drift.summary import render_markdown

from .conftest import COLOURS, MIXED_FEATURES, fit_mixed, mixed_table


def _as_sent(frame: pd.DataFrame, folder, name="batch.csv") -> pd.DataFrame:
    """The batch as the drift job reads it: written by production, read back from CSV."""
    path = folder / name
    frame.drop(columns="target").to_csv(path, index=False)
    return load_batch(path)


@pytest.fixture(scope="module")
def quiet(tmp_path_factory):
    return _as_sent(mixed_table(400, seed=1), tmp_path_factory.mktemp("quiet"))


@pytest.fixture(scope="module", params=["ks", "tabular", "mmd"])
def mixed_bundle(request, mixed_reference, mixed_preprocessor):
    return fit_mixed(mixed_reference, mixed_preprocessor, request.param)


def test_detector_reads_the_model_features_with_chi2_for_categories(
    mixed_ks_bundle, mixed_preprocessor
):
    bundle = mixed_ks_bundle
    assert bundle.feature_columns == mixed_preprocessor.feature_columns == MIXED_FEATURES
    assert bundle.categorical_columns == ["colour"]
    # "ks" with a categorical column is TabularDrift: KS for numbers, chi-squared for categories.
    assert type(bundle.detector).__name__ == "TabularDrift"
    assert bundle.encoding.categories == {"colour": ["__missing__", "blue", "green", "red"]}
    assert bundle.encoding.kinds == mixed_preprocessor.kinds
    assert bundle.encoding.missing_rates["x2"] > 0
    assert bundle.encoding.missing_rates["x1"] == 0
    assert "customer_id" in bundle.schema_yaml, "the whole table schema travels with it"


def test_quiet_batch_is_quiet(mixed_bundle, quiet):
    report, validated = run_drift_check(mixed_bundle, quiet, model_version="1")
    assert report["is_drift"] is False
    if mixed_bundle.kind != "mmd":
        assert report["drifted_features"] == []
    assert validated.extra_columns == ["customer_id"]
    assert report["features"]["colour"]["test"] == "chi2"
    assert report["features"]["colour"]["type"] == "categorical"
    assert report["features"]["day"]["type"] == "datetime"
    assert report["features"]["colour"]["unseen_category_share"] == 0.0
    assert abs(report["features"]["x2"]["missing_rate_change"]) < 0.05


def _with_colours(batch: pd.DataFrame, colours) -> pd.DataFrame:
    return batch.assign(colour=pd.Series(colours, index=batch.index, dtype=object))


def test_shifted_category_distribution_is_flagged_by_chi2(mixed_bundle, quiet):
    rng = np.random.default_rng(5)
    # Blue becomes the most common colour; every other column keeps the quiet batch's values.
    shifted = _with_colours(quiet, rng.choice(COLOURS, len(quiet), p=[0.2, 0.3, 0.5]))
    report, _ = run_drift_check(mixed_bundle, shifted)
    assert report["is_drift"] is True
    assert report["drifted_features"] == ["colour"]
    colour = report["features"]["colour"]
    assert colour["test"] == "chi2"
    assert colour["p_value"] < 1e-6
    assert colour["unseen_category_share"] == 0.0


def test_unseen_categories_raise_the_unseen_share(mixed_ks_bundle, quiet):
    colours = quiet["colour"].copy()
    colours.iloc[:100] = ["purple", "teal", "Red", "blue "] * 25
    report, validated = run_drift_check(mixed_ks_bundle, _with_colours(quiet, colours))
    colour = report["features"]["colour"]
    assert colour["unseen_category_share"] == pytest.approx(0.25)
    assert validated.unseen_share == {"colour": pytest.approx(0.25)}
    assert colour["is_drift"] is True
    assert "colour" in report["drifted_features"]
    markdown = render_markdown(report)
    assert "| Missing ref -> batch | Unseen categories |" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| colour |"))
    assert row.endswith("| 25.0% |")


def test_a_rise_in_missing_values_shows_in_missing_rate_change(mixed_ks_bundle, quiet):
    batch = quiet.copy()
    batch.loc[batch.index[::2], "x2"] = np.nan
    # An empty text value is a missing category, as in the served model's wire form.
    batch.loc[batch.index[:80], "colour"] = ""
    report, _ = run_drift_check(mixed_ks_bundle, batch)
    x2, colour = report["features"]["x2"], report["features"]["colour"]
    reference = mixed_ks_bundle.encoding.missing_rates
    assert x2["missing_rate_reference"] == reference["x2"]
    assert x2["missing_rate_batch"] == pytest.approx(batch["x2"].isna().mean())
    assert x2["missing_rate_change"] == pytest.approx(batch["x2"].isna().mean() - reference["x2"])
    assert x2["missing_rate_change"] > 0.4
    expected = ((batch["colour"] == "") | batch["colour"].isna()).mean()
    assert colour["missing_rate_batch"] == pytest.approx(expected)
    assert colour["missing_rate_change"] > 0.15
    assert report["features"]["x1"]["missing_rate_change"] == 0.0
    rates = f"{x2['missing_rate_reference']:.1%} -> {x2['missing_rate_batch']:.1%}"
    assert f"| {rates} |" in render_markdown(report)


def test_missing_rates_count_empty_text_as_missing():
    frame = pd.DataFrame({"c": ["a", "", None, "b"], "n": [1.0, np.nan, 2.0, 3.0]})
    assert missing_rates(frame, {"c": "categorical", "n": "numeric"}) == {"c": 0.5, "n": 0.25}


def test_header_only_batch_says_it_is_empty(mixed_ks_bundle, quiet, tmp_path):
    batch = _as_sent(quiet.assign(target="x").iloc[:0], tmp_path)
    assert list(batch.columns) == list(quiet.columns)
    with pytest.raises(EmptyBatchError, match=r"The batch is empty: it has a header \(7 columns"):
        validate_raw_batch(batch, mixed_ks_bundle)
    detector = ModelDetector(mixed_ks_bundle, model_version="3")
    with pytest.raises(EmptyBatchError, match=r"Batch prod.csv is empty"):
        validate_production_batch(ProductionBatch(batch, "prod.csv"), detector)


def test_text_in_a_numeric_column_names_the_column_and_rows(mixed_ks_bundle, quiet, tmp_path):
    batch = quiet.astype({"x1": object})
    # (Not "n/a": pandas reads that as a missing value.)
    batch.loc[[3, 7], "x1"] = "approx. 12"
    batch = _as_sent(batch.assign(target="x"), tmp_path)
    with pytest.raises(SchemaError) as info:
        validate_raw_batch(batch, mixed_ks_bundle)
    message = str(info.value)
    assert "column 'x1' (numeric, dtype float64)" in message
    assert "at rows 3, 7" in message
    assert "'approx. 12'" in message
    assert "does not match the schema" in message


def test_a_bad_date_and_a_gone_column_are_named(mixed_ks_bundle, quiet):
    batch = quiet.copy()
    batch.loc[5, "day"] = "the day after"
    with pytest.raises(SchemaError, match=r"column 'day' \(datetime.*at rows 5"):
        validate_raw_batch(batch, mixed_ks_bundle)
    with pytest.raises(SchemaError, match=r"column\(s\) \['flag'\] are missing"):
        validate_raw_batch(quiet.drop(columns="flag"), mixed_ks_bundle)


def test_missing_values_the_schema_forbids_are_refused(mixed_ks_bundle, quiet):
    # The reference had no missing x1: the schema says x1 is never missing.
    batch = quiet.copy()
    batch.loc[[0, 1], "x1"] = np.nan
    with pytest.raises(SchemaError, match=r"column 'x1' \(numeric\) has missing values at rows 0"):
        validate_raw_batch(batch, mixed_ks_bundle)


def test_identifiers_and_the_target_are_not_needed(mixed_ks_bundle, quiet):
    validated = validate_raw_batch(quiet.drop(columns="customer_id"), mixed_ks_bundle)
    assert list(validated.frame.columns) == MIXED_FEATURES
    assert validated.extra_columns == []


def test_bundle_round_trip_keeps_encoding_and_schema(mixed_bundle, quiet, tmp_path):
    folder = save_detector_bundle(mixed_bundle, tmp_path / "bundle")
    metadata = json.loads((folder / "bundle.json").read_text())
    assert metadata["encoding"]["categories"] == {"colour": ["__missing__", "blue", "green", "red"]}
    assert metadata["schema"] == mixed_bundle.schema_yaml
    loaded = load_detector_bundle(folder)
    assert isinstance(loaded.encoding, DriftEncoding)
    assert loaded.encoding == mixed_bundle.encoding
    assert loaded.schema_yaml == mixed_bundle.schema_yaml
    assert loaded.categorical_columns == ["colour"]
    batch = _with_colours(quiet, ["purple"] * 50 + list(quiet["colour"].iloc[50:]))
    before, _ = run_drift_check(mixed_bundle, batch)
    after, _ = run_drift_check(loaded, batch)
    for name in MIXED_FEATURES:
        for key in ("p_value", "missing_rate_batch", "unseen_category_share"):
            if key in before["features"][name]:
                assert after["features"][name][key] == pytest.approx(
                    before["features"][name][key], rel=1e-5
                )
    assert after["is_drift"] == before["is_drift"]


def test_report_files_for_a_mixed_batch(mixed_ks_bundle, quiet, tmp_path):
    report, validated = run_drift_check(mixed_ks_bundle, quiet, model_version="2")
    paths = write_report(report, mixed_ks_bundle, validated.frame, tmp_path)
    assert json.loads(paths.json.read_text()) == report
    assert paths.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| Missing ref -> batch | Unseen categories |" in paths.markdown.read_text()


def test_numeric_bundles_still_take_numeric_batches(reference, holdout, feature_columns):
    # fit_detector without kinds: integer-coded categories, no encoding, no schema.
    bundle = fit_detector(reference, feature_columns, ["size_band"], kind="tabular")
    assert bundle.encoding is None and bundle.schema_yaml == ""
    report, _ = run_drift_check(bundle, holdout)
    assert "missing_rate_batch" not in report["features"]["size_band"]
    assert "unseen_category_share" not in report["features"]["size_band"]
    assert "Missing ref -> batch" not in render_markdown(report)
    result = detect(bundle, holdout[feature_columns])
    assert result.p_values.shape == (len(feature_columns),)


def test_drift_check_command_on_mixed_csv_batches(kedro_project, mixed_ks_bundle, quiet, tmp_path):
    detector_dir = save_detector_bundle(mixed_ks_bundle, tmp_path / "bundle")
    colours = quiet["colour"].copy()
    colours.iloc[:120] = "purple"
    drifted = tmp_path / "drifted.csv"
    _with_colours(quiet, colours).to_csv(drifted, index=False)
    out = tmp_path / "report"
    argv = ["check", "--detector-dir", detector_dir, "--output-dir", out, "--batch", drifted]
    result = CliRunner().invoke(cli.drift, list(map(str, argv)), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "DRIFT (ks); drifted features: colour" in result.stdout
    report = json.loads((out / "drift_report.json").read_text())
    assert report["features"]["colour"]["unseen_category_share"] == pytest.approx(0.3)

    broken = quiet.astype({"visits": object})
    broken.loc[2, "visits"] = "three"
    broken.to_csv(tmp_path / "broken.csv", index=False)
    argv[-1] = tmp_path / "broken.csv"
    result = CliRunner().invoke(cli.drift, list(map(str, argv)))
    assert result.exit_code == 2
    assert "column 'visits' (integer" in result.stderr
    assert "at rows 2" in result.stderr
