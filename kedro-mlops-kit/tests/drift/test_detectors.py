import json

import numpy as np
import pandas as pd
import pytest

from kedro_mlops_kit.drift.detectors import (
    REFERENCE_SAMPLE_ROWS,
    detect,
    fit_detector,
    load_detector_bundle,
    save_detector_bundle,
    subsample,
)
from kedro_mlops_kit.drift.schema import MissingValuesError

from .conftest import CATEGORICAL


def test_round_trip_gives_identical_results(bundle, holdout, tmp_path):
    batch = holdout[bundle.feature_columns]
    before = detect(bundle, batch)
    save_detector_bundle(bundle, tmp_path / "bundle")
    loaded = load_detector_bundle(tmp_path / "bundle")

    assert (tmp_path / "bundle" / "detector" / "config.toml").is_file()
    assert type(loaded.detector) is type(bundle.detector)
    assert loaded.kind == bundle.kind
    assert loaded.feature_columns == bundle.feature_columns
    assert loaded.categorical_columns == CATEGORICAL
    assert loaded.dtypes["size_band"] == "int64"
    assert loaded.options == bundle.options
    pd.testing.assert_frame_equal(loaded.reference_sample, bundle.reference_sample)

    after = detect(loaded, batch)
    assert after.is_drift == before.is_drift
    assert after.threshold == pytest.approx(before.threshold)
    if bundle.kind == "mmd":
        # Same seed, same subsample, same permutations: the p-value must match exactly.
        assert after.mmd_p_value == before.mmd_p_value
        assert after.mmd_distance == pytest.approx(before.mmd_distance, rel=1e-5)
    else:
        np.testing.assert_allclose(after.p_values, before.p_values, rtol=1e-6)


def test_bundle_json_records_schema_and_options(bundle, tmp_path):
    save_detector_bundle(bundle, tmp_path)
    metadata = json.loads((tmp_path / "bundle.json").read_text())
    assert metadata["kind"] == bundle.kind
    assert metadata["categorical_columns"] == CATEGORICAL
    assert set(metadata["reference_stats"]) == set(bundle.feature_columns)
    assert (metadata["encoder"] is not None) == (bundle.kind == "mmd")


def test_mmd_cost_is_bounded_by_subsampling(reference, feature_columns):
    bundle = fit_detector(
        reference, feature_columns, CATEGORICAL, kind="mmd",
        max_reference_rows=100, max_batch_rows=50, n_permutations=10,
    )  # fmt: skip
    assert bundle.n_reference == len(reference)
    assert bundle.n_reference_used == 100
    assert bundle.detector._detector.x_ref.shape[0] == 100
    result = detect(bundle, reference[feature_columns])
    assert result.n_batch_used == 50


def test_tabular_categories_come_from_full_reference(reference, feature_columns):
    bundle = fit_detector(
        reference, feature_columns, CATEGORICAL, kind="tabular", max_reference_rows=5
    )
    index = feature_columns.index("size_band")
    assert bundle.detector.x_ref_categories[index] == [0, 1, 2, 3]


def test_reference_sample_is_bounded(feature_columns, reference):
    big = pd.concat([reference] * 20, ignore_index=True)
    bundle = fit_detector(big, feature_columns, CATEGORICAL, kind="ks")
    assert len(bundle.reference_sample) == REFERENCE_SAMPLE_ROWS


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("svm", {}, "Unknown detector kind 'svm'"),
        ("ks", {"n_permutations": 5}, r"Unknown option\(s\) \['n_permutations'\]"),
        ("ks", {"correction": "holm"}, "correction must be one of"),
        ("mmd", {"max_batch_rows": 0}, "max_batch_rows must be a positive integer"),
    ],
)
def test_invalid_configuration_is_rejected(reference, feature_columns, kind, options, message):
    with pytest.raises(ValueError, match=message):
        fit_detector(reference, feature_columns, CATEGORICAL, kind=kind, **options)


def test_categorical_must_be_integer_coded(reference, feature_columns):
    with pytest.raises(ValueError, match="'mean radius' must be integer-coded"):
        fit_detector(reference, feature_columns, ["mean radius"], kind="tabular")


def test_reference_is_validated_like_a_batch(reference, feature_columns):
    broken = reference.copy()
    broken.loc[0, "mean area"] = np.nan
    with pytest.raises(MissingValuesError, match="mean area"):
        fit_detector(broken, feature_columns, CATEGORICAL)


def test_load_missing_bundle_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"bundle\.json"):
        load_detector_bundle(tmp_path / "nowhere")


def test_subsample_is_reproducible():
    frame = pd.DataFrame({"x": np.arange(1000)})
    first = subsample(frame, 10, seed=3)
    np.testing.assert_array_equal(first["x"], subsample(frame, 10, seed=3)["x"])
    assert first["x"].is_unique
    assert subsample(frame, None, seed=3) is frame


def test_mmd_result_does_not_depend_on_global_torch_rng(reference, holdout, feature_columns):
    import torch

    bundle = fit_detector(
        reference, feature_columns, CATEGORICAL, kind="mmd",
        max_reference_rows=200, max_batch_rows=200, n_permutations=30,
    )  # fmt: skip
    torch.manual_seed(1)
    first = detect(bundle, holdout[feature_columns])
    torch.manual_seed(2)
    state = torch.get_rng_state()
    second = detect(bundle, holdout[feature_columns])
    assert first.mmd_p_value == second.mmd_p_value
    # The caller's random stream is left as it was.
    assert torch.equal(torch.get_rng_state(), state)
