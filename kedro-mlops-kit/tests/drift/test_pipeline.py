"""The `drift` pipeline's nodes, and the pipeline on an in-memory catalog (no MLflow, no files).

The pipeline is the one the minimal project of conftest.py registers, wired from the plugin's
nodes as a generated project wires them.
"""

import json

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.text import TextDataset
from matplotlib.figure import Figure

from kedro_mlops_kit.drift.dataset import (
    ChampionDetectorDataset,
    ModelDetector,
    ProductionBatch,
    ProductionBatchDataset,
)
from kedro_mlops_kit.drift.detectors import save_detector_bundle
from kedro_mlops_kit.drift.nodes import (
    DriftDetectedError,
    build_drift_report,
    detect_drift,
    log_drift_check,
    raise_on_drift,
    render_drift_report,
    validate_production_batch,
)
from kedro_mlops_kit.drift.pipelines import create_drift_pipeline
from kedro_mlops_kit.drift.schema import MissingColumnsError
from kedro_mlops_kit.drift.simulate import simulate_batches

from .conftest import CATEGORICAL


@pytest.fixture(scope="module")
def batches(reference, feature_columns):
    return simulate_batches(reference, feature_columns, CATEGORICAL, n_rows=400, seed=0)


@pytest.fixture(scope="module")
def drift_pipeline(kedro_project):
    return create_drift_pipeline()


@pytest.fixture(scope="module")
def detector(ks_bundle):
    return ModelDetector(ks_bundle, model_version="7")


def _report(batch, detector):
    validated = validate_production_batch(ProductionBatch(batch, "batch.csv"), detector)
    return build_drift_report(validated, detect_drift(validated, detector), detector), validated


def test_validation_keeps_feature_columns_in_training_order(batches, detector, feature_columns):
    frame = batches.shifted.assign(request_id=1)[["request_id", *reversed(feature_columns)]]
    validated = validate_production_batch(ProductionBatch(frame, "b.csv"), detector)
    assert list(validated.frame.columns) == feature_columns
    assert validated.extra_columns == ["request_id"]


def test_validation_names_a_missing_column(batches, detector):
    frame = batches.shifted.drop(columns=["mean area"])
    with pytest.raises(MissingColumnsError, match=r"\['mean area'\]"):
        validate_production_batch(ProductionBatch(frame, "b.csv"), detector)


def test_report_names_the_shifted_features(batches, detector):
    report, _ = _report(batches.shifted, detector)
    assert report["is_drift"] is True
    assert report["model_version"] == "7"
    assert set(batches.mean_shifted_features) <= set(report["drifted_features"])
    quiet, _ = _report(batches.reference_like, detector)
    assert quiet["is_drift"] is False


def test_render_returns_a_figure_and_the_markdown_summary(batches, detector):
    report, validated = _report(batches.shifted, detector)
    figure, summary = render_drift_report(report, validated, detector)
    assert isinstance(figure, Figure)
    assert len(figure.axes) >= len(report["drifted_features"])
    assert summary.splitlines()[2].startswith("**DRIFT DETECTED**")


def test_local_bundle_checks_are_not_logged(batches, detector):
    report, _ = _report(batches.shifted, detector)
    run = log_drift_check(report, ProductionBatch(batches.shifted, "b.csv"), detector)
    assert run == {"experiment": None, "run_id": None}


def test_raise_on_drift_only_when_asked_and_drifted(batches, detector):
    drifted, _ = _report(batches.shifted, detector)
    quiet, _ = _report(batches.reference_like, detector)
    raise_on_drift(drifted, "summary", {}, fail_on_drift=False)
    raise_on_drift(quiet, "summary", {}, fail_on_drift=True)
    with pytest.raises(DriftDetectedError, match=drifted["drifted_features"][0]) as caught:
        raise_on_drift(drifted, "summary", {}, fail_on_drift=True)
    assert caught.value.report is drifted


def _catalog(batch, detector, fail_on_drift, folder):
    # Plain runner, no project hooks (so MLflow is never touched); the inputs in memory, the
    # report in files through the dataset types the project's catalog uses.
    return DataCatalog(
        datasets={
            "production_batch": MemoryDataset(ProductionBatch(batch, "b.csv"), copy_mode="assign"),
            "champion_drift_detector": MemoryDataset(detector, copy_mode="assign"),
            "params:drift.fail_on_drift": MemoryDataset(fail_on_drift),
            "drift_report": JSONDataset(
                filepath=str(folder / "drift_report.json"), save_args={"allow_nan": False}
            ),
            "drift_report_plot": MatplotlibDataset(filepath=str(folder / "drift_report.png")),
            "drift_report_summary": TextDataset(filepath=str(folder / "drift_report.md")),
        }
    )


def test_pipeline_writes_every_report_output(drift_pipeline, batches, detector, tmp_path):
    SequentialRunner().run(drift_pipeline, _catalog(batches.shifted, detector, False, tmp_path))
    report = json.loads((tmp_path / "drift_report.json").read_text())
    assert report["is_drift"] is True
    assert report["model_version"] == "7"
    assert (tmp_path / "drift_report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "drift_report.md").read_text().startswith("# Drift report")


def test_pipeline_fails_on_drift_after_the_report_is_saved(
    drift_pipeline, batches, detector, tmp_path
):
    catalog = _catalog(batches.shifted, detector, True, tmp_path)
    with pytest.raises(DriftDetectedError):
        SequentialRunner().run(drift_pipeline, catalog)
    for name in ("drift_report.json", "drift_report.png", "drift_report.md"):
        assert (tmp_path / name).is_file()


def test_batch_dataset_reads_csv_and_parquet_once_per_run(batches, tmp_path):
    batches.shifted.to_parquet(tmp_path / "b.parquet")
    dataset = ProductionBatchDataset(filepath=str(tmp_path / "b.parquet"))
    first = dataset.load()
    assert first.source == str(tmp_path / "b.parquet")
    assert first.frame.equals(batches.shifted)
    # The same rows for every node of a run, even if the file changes meanwhile.
    (tmp_path / "b.parquet").unlink()
    assert dataset.load() is first
    dataset.release()
    with pytest.raises(Exception, match="does not exist"):
        dataset.load()


def test_detector_dataset_loads_a_local_bundle_with_its_version(ks_bundle, tmp_path):
    folder = save_detector_bundle(ks_bundle, tmp_path / "bundle")
    dataset = ChampionDetectorDataset(model_name="m", detector_dir=str(folder), model_version=5)
    loaded = dataset.load()
    assert loaded.model_version == "5"
    assert loaded.model_name is None
    assert loaded.bundle.feature_columns == ks_bundle.feature_columns
    assert dataset.exists()
