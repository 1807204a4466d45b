"""Definition of the data_processing pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import fit_preprocessor, split_data, validate_raw_data


def create_pipeline(**kwargs) -> Pipeline:
    """Validate raw data, split it and fit the preprocessing on the training split."""
    return Pipeline(
        [
            Node(
                validate_raw_data,
                inputs=["raw_data", "params:data_processing"],
                outputs="validated_data",
                name="validate_raw_data",
            ),
            Node(
                split_data,
                inputs=["validated_data", "params:data_processing"],
                outputs=["train_set", "validation_set", "test_set"],
                name="split_data",
            ),
            Node(
                fit_preprocessor,
                inputs=["train_set", "params:data_processing"],
                outputs="preprocessor",
                name="fit_preprocessor",
            ),
        ]
    )
