"""Nodes of the evaluation pipeline."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from kedro_mlops_kit.evaluation.gate import apply_quality_gate
from kedro_mlops_kit.evaluation.metrics import class_indices, predict, test_set_metrics
from kedro_mlops_kit.evaluation.plots import (
    confusion_matrix_figure,
    residuals_figure,
    training_curves_figure,
)
from kedro_mlops_kit.evaluation.promotion import register_model
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import ServingModule
from kedro_mlops_kit.table import Table
from kedro_mlops_kit.tasks import CLASSIFICATION
from kedro_mlops_kit.training.trainer import VALIDATION_METRIC
from matplotlib.figure import Figure

__all__ = [
    "check_quality_gate",
    "evaluate_model",
    "history_for_mlflow",
    "metrics_for_mlflow",
    "plot_test_diagnostics",
    "plot_training_curves",
    "predict_test_set",
    "register_model",
]

logger = logging.getLogger(__name__)


def predict_test_set(model: ServingModule, test_set: Table | pd.DataFrame) -> np.ndarray:
    """Run the serving module on the raw test features (a chunk at a time)."""
    return predict(model, test_set)


def evaluate_model(
    model: ServingModule,
    test_set: Table | pd.DataFrame,
    predictions: np.ndarray,
    preprocessor: Preprocessor,
) -> dict[str, float]:
    """Compute test metrics for the model's task."""
    metrics = test_set_metrics(model, test_set, preprocessor.target, predictions)
    logger.info("Test metrics: %s", {k: round(v, 4) for k, v in metrics.items()})
    return metrics


def metrics_for_mlflow(test_metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    """Shape test metrics for ``MlflowMetricsHistoryDataset`` (one value at step 0)."""
    return {name: {"value": value, "step": 0} for name, value in test_metrics.items()}


def history_for_mlflow(
    history: list[dict[str, float]], model: ServingModule
) -> dict[str, list[dict[str, float]]]:
    """Shape the per-epoch history for ``MlflowMetricsHistoryDataset`` with step = epoch."""
    names = {
        "train_loss": "train_loss",
        "val_loss": "val_loss",
        "val_metric": f"val_{VALIDATION_METRIC[model.task]}",
    }
    return {
        logged: [{"value": h[field], "step": int(h["epoch"])} for h in history]
        for field, logged in names.items()
    }


def plot_test_diagnostics(
    model: ServingModule,
    test_set: Table | pd.DataFrame,
    predictions: np.ndarray,
    preprocessor: Preprocessor,
) -> Figure:
    """Confusion matrix (classification) or residual plots (regression) on the test set."""
    target = test_set[preprocessor.target]
    if model.task == CLASSIFICATION:
        return confusion_matrix_figure(
            class_indices(model, target), predictions.argmax(axis=1), model.class_labels
        )
    return residuals_figure(target.to_numpy(dtype=float), predictions[:, 0])


def plot_training_curves(history: list[dict[str, float]], model: ServingModule) -> Figure:
    """Loss curves and validation metric per epoch."""
    return training_curves_figure(history, VALIDATION_METRIC[model.task])


def check_quality_gate(
    test_metrics: dict[str, float], model: ServingModule, params: dict[str, Any]
) -> dict[str, Any]:
    """Apply the task's thresholds from ``evaluation.quality_gate``."""
    result = apply_quality_gate(test_metrics, params["quality_gate"][model.task], model.task)
    if result.passed:
        logger.info("Quality gate passed.")
    else:
        logger.warning("Quality gate FAILED: %s", "; ".join(result.failures))
    return result.to_dict()
