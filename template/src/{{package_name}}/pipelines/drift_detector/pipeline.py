"""Definition of the drift_detector pipeline (its nodes live in the plugin)."""

from kedro.pipeline import Pipeline
from kedro_mlops_kit.drift.pipelines import create_detector_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    """Fit the drift detector on the training split and log it with the registered model."""
    return create_detector_pipeline()
