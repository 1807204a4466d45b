"""Definition of the training pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import train_model


def create_pipeline(**kwargs) -> Pipeline:
    """Train the serving module on the processed splits."""
    return Pipeline(
        [
            Node(
                train_model,
                inputs=["train_set", "validation_set", "preprocessor", "params:training"],
                outputs=["model", "training_history"],
                name="train_model",
            )
        ]
    )
