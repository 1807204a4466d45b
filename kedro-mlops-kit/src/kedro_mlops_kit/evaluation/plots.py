"""Figures for humans: test diagnostics and training curves."""

from __future__ import annotations

import matplotlib

# Headless backend: plots are written to files from CLI/DVC runs with no display.
matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay


def confusion_matrix_figure(y_true: np.ndarray, y_pred: np.ndarray, class_labels: list) -> Figure:
    """Confusion matrix of class indices, axes labelled with the class labels."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(class_labels))),
        display_labels=[str(label) for label in class_labels],
        cmap="Blues",
        ax=ax,
        colorbar=False,
    )
    ax.set_title("Test set confusion matrix")
    return fig


def residuals_figure(y_true: np.ndarray, y_pred: np.ndarray) -> Figure:
    """Residuals against predictions, plus predicted-vs-actual with the identity line."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    residuals = y_true - y_pred
    left.scatter(y_pred, residuals, s=12, alpha=0.7)
    left.axhline(0.0, color="black", linewidth=1)
    left.set(xlabel="predicted", ylabel="actual - predicted", title="Residuals vs predicted")
    right.scatter(y_true, y_pred, s=12, alpha=0.7)
    bounds = [min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())]
    right.plot(bounds, bounds, color="black", linewidth=1)
    right.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual (test)")
    fig.tight_layout()
    return fig


def training_curves_figure(history: list[dict[str, float]], metric_label: str) -> Figure:
    """Train/validation loss and the validation metric per epoch."""
    epochs = [h["epoch"] for h in history]
    fig, (loss_ax, metric_ax) = plt.subplots(1, 2, figsize=(10, 4))
    loss_ax.plot(epochs, [h["train_loss"] for h in history], label="train")
    loss_ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    best = min(history, key=lambda h: h["val_loss"])
    loss_ax.axvline(best["epoch"], color="grey", linestyle="--", label="best epoch")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    loss_ax.legend()
    metric_ax.plot(epochs, [h["val_metric"] for h in history], color="tab:green")
    metric_ax.set(xlabel="epoch", ylabel=metric_label, title=f"Validation {metric_label}")
    fig.tight_layout()
    return fig
