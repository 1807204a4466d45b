"""Test-set metrics for both tasks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from kedro_mlops_kit.serving_model import ServingModule
from kedro_mlops_kit.tasks import CLASSIFICATION


def predict(model: ServingModule, frame: pd.DataFrame) -> np.ndarray:
    """Run the serving module on raw rows: probabilities or ``[n, 1]`` predictions."""
    return model.predict_frame(frame)


def class_indices(model: ServingModule, labels: pd.Series) -> np.ndarray:
    """Encode target labels as output-column indices of ``model``."""
    index = {label: i for i, label in enumerate(model.class_labels)}
    return labels.map(index).to_numpy()


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy, macro F1, log loss and (binary only) ROC AUC from class-index targets."""
    y_pred = proba.argmax(axis=1)
    n_classes = proba.shape[1]
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro")),
        "log_loss": float(log_loss(y_true, proba, labels=list(range(n_classes)))),
    }
    # AUC is undefined when the test split holds a single class.
    if n_classes == 2 and len(np.unique(y_true)) == 2:
        metrics["roc_auc"] = float(roc_auc_score(y_true, proba[:, 1]))
    return metrics


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R² in target units."""
    return {
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": float(r2_score(y_true, y_pred)),
    }


def test_set_metrics(
    model: ServingModule, frame: pd.DataFrame, target: str, outputs: np.ndarray
) -> dict[str, float]:
    """Compute the task's metrics for ``outputs`` of ``model`` on ``frame``."""
    if model.task == CLASSIFICATION:
        return classification_metrics(class_indices(model, frame[target]), outputs)
    return regression_metrics(frame[target].to_numpy(dtype=float), outputs[:, 0])
