"""Definition of the drift pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_drift_report,
    detect_drift,
    log_drift_check,
    raise_on_drift,
    render_drift_report,
    validate_production_batch,
)


def create_pipeline(**kwargs) -> Pipeline:
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
