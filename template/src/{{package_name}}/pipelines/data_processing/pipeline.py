"""Definition of the data_processing pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import fit_features, split_data, validate_raw_data


def create_pipeline(**kwargs) -> Pipeline:
    """Validate raw data against the schema, split it and fit the preprocessing."""
    return Pipeline(
        [
            Node(
                validate_raw_data,
                inputs=["raw_data", "table_schema", "params:data_processing"],
                outputs=["validated_data", "validation_report"],
                name="validate_raw_data",
            ),
            Node(
                split_data,
                inputs=["validated_data", "table_schema", "params:data_processing"],
                outputs=["train_set", "validation_set", "test_set"],
                name="split_data",
            ),
            Node(
                fit_features,
                inputs=["train_set", "table_schema", "params:data_processing"],
                outputs="preprocessor",
                name="fit_preprocessor",
            ),
        ]
    )
