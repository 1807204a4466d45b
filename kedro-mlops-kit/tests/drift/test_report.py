import json

import pytest

from kedro_mlops_kit.drift.ranking import format_p_value, severity_order
from kedro_mlops_kit.drift.report import REPORT_VERSION, run_drift_check, write_report
from kedro_mlops_kit.drift.simulate import simulate_batches
from kedro_mlops_kit.drift.summary import render_markdown

from .conftest import CATEGORICAL

TOP_LEVEL_KEYS = {
    "report_version", "generated_at", "is_drift", "detector", "model_version", "thresholds",
    "n_reference", "n_reference_used", "n_batch", "n_batch_used", "extra_columns_ignored",
    "mmd", "features", "drifted_features",
}  # fmt: skip
FEATURE_KEYS = {
    "type", "test", "statistic", "p_value", "is_drift",
    "reference_mean", "reference_std", "batch_mean", "batch_std",
}  # fmt: skip


@pytest.fixture(scope="module")
def shifted(reference, feature_columns):
    return simulate_batches(reference, feature_columns, CATEGORICAL, n_rows=400, seed=0)


def test_report_schema(bundle, shifted):
    batch = shifted.shifted.assign(request_id=range(len(shifted.shifted)))
    report, _ = run_drift_check(bundle, batch, model_version="7")
    # Strict JSON: no NaN/inf, no numpy scalars.
    report = json.loads(json.dumps(report, allow_nan=False))

    assert set(report) == TOP_LEVEL_KEYS
    assert report["report_version"] == REPORT_VERSION
    assert report["detector"] == bundle.kind
    assert report["model_version"] == "7"
    assert report["extra_columns_ignored"] == ["request_id"]
    assert report["n_batch"] == 400
    assert set(report["thresholds"]) == {"p_val", "correction", "threshold"}
    assert set(report["features"]) == set(bundle.feature_columns)
    for entry in report["features"].values():
        assert set(entry) >= FEATURE_KEYS
    assert report["features"]["size_band"]["type"] == "categorical"
    if bundle.kind == "mmd":
        assert report["thresholds"]["correction"] == "permutation-test"
        assert report["mmd"]["n_permutations"] == bundle.options["n_permutations"]
        assert report["n_batch_used"] == bundle.options["max_batch_rows"]
        assert report["features"]["mean area"]["diagnostic"] is True
    else:
        assert report["mmd"] is None
        assert report["thresholds"]["correction"] == "bonferroni"
        # Bonferroni over 31 features.
        assert report["thresholds"]["threshold"] == pytest.approx(0.05 / 31)
    if bundle.kind == "tabular":
        assert report["features"]["size_band"]["test"] == "chi2"


def test_drifted_features_sorted_by_severity(ks_bundle, shifted):
    report, _ = run_drift_check(ks_bundle, shifted.shifted)
    drifted = report["drifted_features"]
    keys = [
        (report["features"][n]["p_value"], -report["features"][n]["statistic"]) for n in drifted
    ]
    assert keys == sorted(keys)
    assert len(drifted) == 4


def test_write_report_outputs(ks_bundle, shifted, tmp_path):
    report, validated = run_drift_check(ks_bundle, shifted.shifted, model_version="7")
    paths = write_report(report, ks_bundle, validated.frame, tmp_path / "out")

    assert json.loads(paths.json.read_text()) == report
    assert paths.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths.png.stat().st_size > 10_000
    assert paths.json.name == "drift_report.json"
    markdown = paths.markdown.read_text()
    assert markdown.splitlines()[2].startswith("**DRIFT DETECTED**")
    first_row = markdown.split("|---|")[1].splitlines()[1]
    assert f"| {report['drifted_features'][0]} |" in first_row
    assert first_row.rstrip().endswith("| yes |")


def test_markdown_for_quiet_batch(ks_bundle, holdout):
    report, _ = run_drift_check(ks_bundle, holdout)
    markdown = render_markdown(report)
    assert "**No drift**" in markdown
    assert "Drifted features: none" in markdown
    assert "| yes |" not in markdown


def test_severity_order_and_p_value_text():
    features = {
        "a": {"p_value": 0.3, "statistic": 0.1},
        "b": {"p_value": 0.0, "statistic": 0.2},
        "c": {"p_value": 0.0, "statistic": 0.5},
        "d": {"p_value": None, "statistic": None},
    }
    assert severity_order(features) == ["c", "b", "a", "d"]
    assert format_p_value(0.0) == "<1e-300"
    assert format_p_value(0.01234) == "0.0123"
    assert format_p_value(None) == "n/a"
