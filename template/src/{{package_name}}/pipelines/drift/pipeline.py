"""Definition of the drift pipeline: the plugin's drift job over this project's catalog."""

from kedro.pipeline import Pipeline
from kedro_mlops_kit.drift.pipelines import create_drift_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    """Check the production batch against the champion's detector; save and log the report."""
    return create_drift_pipeline()
