"""Definition of the drift_detector pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import fit_drift_detector, log_drift_detector


def create_pipeline(**kwargs) -> Pipeline:
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
