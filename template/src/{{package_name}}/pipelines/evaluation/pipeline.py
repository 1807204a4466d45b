"""Definition of the evaluation pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    check_quality_gate,
    evaluate_model,
    history_for_mlflow,
    metrics_for_mlflow,
    plot_test_diagnostics,
    plot_training_curves,
    predict_test_set,
    register_model,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Evaluate the trained model, gate it and register / promote it in MLflow."""
    return Pipeline(
        [
            Node(predict_test_set, ["model", "test_set"], "test_predictions", name="predict"),
            Node(
                evaluate_model,
                ["model", "test_set", "test_predictions", "preprocessor"],
                "test_metrics",
                name="evaluate_model",
            ),
            Node(metrics_for_mlflow, "test_metrics", "mlflow_test_metrics", name="log_metrics"),
            Node(
                history_for_mlflow,
                ["training_history", "model"],
                "mlflow_epoch_metrics",
                name="log_training_history",
            ),
            Node(
                plot_test_diagnostics,
                ["model", "test_set", "test_predictions", "preprocessor"],
                "test_diagnostics_plot",
                name="plot_test_diagnostics",
            ),
            Node(
                plot_training_curves,
                ["training_history", "model"],
                "training_curves_plot",
                name="plot_training_curves",
            ),
            Node(
                check_quality_gate,
                ["test_metrics", "model", "params:evaluation"],
                "quality_gate_result",
                name="check_quality_gate",
            ),
            Node(
                register_model,
                [
                    "model",
                    "test_metrics",
                    "quality_gate_result",
                    "training_history",
                    "preprocessor",
                    "params:evaluation",
                    "params:training",
                    "params:data_processing",
                ],
                "promotion_record",
                name="register_model",
            ),
        ]
    )
