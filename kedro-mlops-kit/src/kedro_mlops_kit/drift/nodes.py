"""Nodes of the drift job: validate a production batch, detect drift, report and log it.

The work itself lives in the ``drift`` package (schema, detectors, report, plotting, summary,
champion); these nodes wire it to the catalog, so ``kedro run --pipeline drift`` and
``kedro drift check`` (``make drift``) run the same check.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from kedro_mlops_kit.drift.champion import log_drift_metrics
from kedro_mlops_kit.drift.dataset import ModelDetector, ProductionBatch
from kedro_mlops_kit.drift.detectors import DetectionResult, detect
from kedro_mlops_kit.drift.plotting import drift_figure
from kedro_mlops_kit.drift.report import build_report
from kedro_mlops_kit.drift.schema import ValidatedBatch, validate_raw_batch
from kedro_mlops_kit.drift.summary import render_markdown

logger = logging.getLogger(__name__)


class DriftDetectedError(RuntimeError):
    """The batch drifted and the job was asked to fail on drift; the report is already saved."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        drifted = ", ".join(report["drifted_features"]) or "-"
        super().__init__(
            f"Drift detected by the {report['detector']} detector; drifted features: {drifted}"
        )


def validate_production_batch(
    production_batch: ProductionBatch, champion_drift_detector: ModelDetector
) -> ValidatedBatch:
    """Check the batch against the model's schema and encode it for the detector.

    Raises:
        SchemaError: The batch is empty, a feature column is missing, or values do not fit
            the schema; the message names the columns, a few rows and the fix.
    """
    return validate_raw_batch(
        production_batch.frame,
        champion_drift_detector.bundle,
        where=f"Batch {production_batch.source}",
    )


def detect_drift(
    validated_production_batch: ValidatedBatch, champion_drift_detector: ModelDetector
) -> DetectionResult:
    """Run the champion's detector on the validated batch."""
    return detect(champion_drift_detector.bundle, validated_production_batch.frame)


def build_drift_report(
    validated_production_batch: ValidatedBatch,
    drift_detection: DetectionResult,
    champion_drift_detector: ModelDetector,
) -> dict[str, Any]:
    """Build the JSON report: verdict, thresholds, per-feature results, drifted features.

    It is the contract with automation (the retrain trigger reads ``is_drift`` and
    ``drifted_features``).
    """
    return build_report(
        champion_drift_detector.bundle,
        validated_production_batch,
        drift_detection,
        champion_drift_detector.model_version,
    )


def render_drift_report(
    drift_report: dict[str, Any],
    validated_production_batch: ValidatedBatch,
    champion_drift_detector: ModelDetector,
) -> tuple[Figure, str]:
    """Draw the reference-vs-batch plot and write the markdown summary, for people."""
    bundle = champion_drift_detector.bundle
    figure = drift_figure(
        drift_report,
        bundle.reference_sample,
        validated_production_batch.frame,
        bundle.categorical_columns,
    )
    return figure, render_markdown(drift_report)


def log_drift_check(
    drift_report: dict[str, Any],
    production_batch: ProductionBatch,
    champion_drift_detector: ModelDetector,
) -> dict[str, str | None]:
    """Log the check's metrics as a run of the ``<model>-drift`` MLflow experiment.

    Only checks against a registered champion are logged: a local bundle belongs to no model
    version, and its checks would muddle the served model's drift history.

    Returns:
        The experiment and run id, both ``None`` when nothing was logged.
    """
    model_name = champion_drift_detector.model_name
    if model_name is None:
        logger.info("Local detector bundle: the drift check is not logged to MLflow")
        return {"experiment": None, "run_id": None}
    run_id = log_drift_metrics(drift_report, model_name, Path(production_batch.source))
    return {"experiment": f"{model_name}-drift", "run_id": run_id}


def raise_on_drift(
    drift_report: dict[str, Any],
    drift_report_summary: str,
    drift_check_run: dict[str, str | None],
    fail_on_drift: bool,
) -> None:
    """Raise :class:`DriftDetectedError` if the batch drifted and ``fail_on_drift`` is set.

    The saved summary and the MLflow run are inputs only so that Kedro runs this node last: a
    job that fails on drift still leaves its report, plot, summary and metrics behind.
    """
    if fail_on_drift and drift_report["is_drift"]:
        raise DriftDetectedError(drift_report)
