"""The two drift pipelines every project registers: drift_detector and drift.

drift_detector fits the detector on the training split and logs it with the registered
model (a DVC stage of the lifecycle); drift checks a production batch against the
champion's detector (make drift, kedro drift check). Projects register them from
pipelines/drift_detector/pipeline.py and pipelines/drift/pipeline.py; the datasets they
name are in the project's conf/base/catalog_mlops.yml.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from kedro_mlops_kit.drift.detector_nodes import fit_drift_detector, log_drift_detector
from kedro_mlops_kit.drift.nodes import (
    build_drift_report,
    detect_drift,
    log_drift_check,
    raise_on_drift,
    render_drift_report,
    validate_production_batch,
)


def create_detector_pipeline() -> Pipeline:
    """Fit the drift detector on the training split and log it with the registered model."""
    return Pipeline(
        [
            Node(
                fit_drift_detector,
                ["train_set", "preprocessor", "params:drift_detector"],
                "drift_detector",
                name="fit_drift_detector",
            ),
            Node(
                log_drift_detector,
                ["drift_detector", "promotion_record", "params:drift_detector"],
                "drift_detector_record",
                name="log_drift_detector",
            ),
        ]
    )


def create_drift_pipeline() -> Pipeline:
    """Check the production batch against the champion's detector; save and log the report."""
    return Pipeline(
        [
            Node(
                validate_production_batch,
                ["production_batch", "champion_drift_detector"],
                "validated_production_batch",
                name="validate_production_batch",
            ),
            Node(
                detect_drift,
                ["validated_production_batch", "champion_drift_detector"],
                "drift_detection",
                name="detect_drift",
            ),
            Node(
                build_drift_report,
                ["validated_production_batch", "drift_detection", "champion_drift_detector"],
                "drift_report",
                name="build_drift_report",
            ),
            Node(
                render_drift_report,
                ["drift_report", "validated_production_batch", "champion_drift_detector"],
                ["drift_report_plot", "drift_report_summary"],
                name="render_drift_report",
            ),
            Node(
                log_drift_check,
                ["drift_report", "production_batch", "champion_drift_detector"],
                "drift_check_run",
                name="log_drift_check",
            ),
            Node(
                raise_on_drift,
                [
                    "drift_report",
                    "drift_report_summary",
                    "drift_check_run",
                    "params:drift.fail_on_drift",
                ],
                None,
                name="fail_on_drift",
            ),
        ]
    )
