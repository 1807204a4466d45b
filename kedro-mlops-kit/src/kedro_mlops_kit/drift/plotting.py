"""At-a-glance drift plot: per-feature reference-vs-batch histograms, drifted features first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kedro_mlops_kit.drift.ranking import format_p_value, severity_order

__all__ = ["MAX_PANELS", "PNG_DPI", "drift_figure", "plot_drift"]

# Beyond ~12 small panels a grid stops being readable at a glance; the most severe are shown.
MAX_PANELS = 12
_COLUMNS = 4
_BINS = 30
# Histograms of a 100k-row batch look the same from a 20k-row sample and draw much faster.
_MAX_PLOT_ROWS = 20_000
_DRIFT_COLOR = "#c62828"
_REFERENCE_COLOR = "#9e9e9e"
_BATCH_COLOR = "#1565c0"
# Readable on a screen and small enough for MR comments; the catalog's drift_report_plot uses
# the same resolution.
PNG_DPI = 90


def _numeric_panel(ax: Any, reference: np.ndarray, batch: np.ndarray) -> None:
    both = np.concatenate([reference, batch])
    # Clip the bin range to the central 99% so one outlier does not squash every bar into one.
    low, high = np.percentile(both, [0.5, 99.5])
    if not high > low:
        low, high = float(both.min()) - 0.5, float(both.max()) + 0.5
    bins = np.linspace(low, high, _BINS + 1)
    ax.hist(reference, bins=bins, density=True, color=_REFERENCE_COLOR, alpha=0.6, label="ref")
    ax.hist(
        batch, bins=bins, density=True, histtype="step", color=_BATCH_COLOR, lw=1.6, label="batch"
    )


def _categorical_panel(ax: Any, reference: np.ndarray, batch: np.ndarray) -> None:
    categories = np.union1d(np.unique(reference), np.unique(batch))
    positions = np.arange(categories.size)
    ref_share = (reference[:, None] == categories).mean(axis=0)
    batch_share = (batch[:, None] == categories).mean(axis=0)
    ax.bar(positions - 0.2, ref_share, width=0.4, color=_REFERENCE_COLOR, label="ref")
    ax.bar(positions + 0.2, batch_share, width=0.4, color=_BATCH_COLOR, label="batch")
    ax.set_xticks(positions, [f"{c:g}" for c in categories], fontsize=7)


def _title(name: str, entry: dict[str, Any]) -> str:
    stat = entry["statistic"]
    p_value = entry["p_value"]
    stat_text = "n/a" if stat is None else f"{stat:.3g}"
    p_text = format_p_value(p_value)
    p_text = f"p{p_text}" if p_text.startswith("<") else f"p={p_text}"
    # The word, not only the red colour, marks drift: the plot must read in greyscale too.
    flag = "  [DRIFT]" if entry["is_drift"] else ""
    return f"{name}{flag}\n{entry['test']}={stat_text}  {p_text}"


def drift_figure(
    report: dict[str, Any],
    reference_sample: pd.DataFrame,
    batch: pd.DataFrame,
    categorical_columns: Sequence[str],
    max_panels: int = MAX_PANELS,
) -> Figure:
    """Draw the reference-vs-batch grid for the report's features.

    Drifted features come first (most severe first) with a red title and frame; the remaining
    panels show the least stable non-drifted features. The figure is not registered with
    pyplot, so nothing needs closing and a headless job needs no display backend.
    """
    order = severity_order(report["features"])[:max_panels]
    categorical = set(categorical_columns)
    if len(batch) > _MAX_PLOT_ROWS:
        batch = batch.sample(n=_MAX_PLOT_ROWS, random_state=0)

    n_rows = max(1, math.ceil(len(order) / _COLUMNS))
    fig = Figure(figsize=(4 * _COLUMNS, 3 * n_rows + 0.8))
    axes = np.atleast_1d(fig.subplots(n_rows, _COLUMNS)).ravel()
    for ax, name in zip(axes, order, strict=False):
        entry = report["features"][name]
        reference = reference_sample[name].to_numpy(dtype=np.float64)
        values = batch[name].to_numpy(dtype=np.float64)
        if name in categorical:
            _categorical_panel(ax, reference, values)
        else:
            _numeric_panel(ax, reference, values)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
        color = _DRIFT_COLOR if entry["is_drift"] else "black"
        ax.set_title(_title(name, entry), fontsize=9, color=color)
        if entry["is_drift"]:
            for spine in ax.spines.values():
                spine.set_edgecolor(_DRIFT_COLOR)
                spine.set_linewidth(2.5)
    for ax in axes[len(order) :]:
        ax.set_visible(False)
    if order:
        axes[0].legend(fontsize=7, loc="upper right")

    n_drifted = len(report["drifted_features"])
    verdict = "DRIFT DETECTED" if report["is_drift"] else "No drift"
    fig.suptitle(
        f"{verdict}: {report['detector']} detector, {n_drifted}/{len(report['features'])} "
        f"features flagged; model {report['model_version']}; batch {report['n_batch']} rows"
        f" (showing {len(order)} most severe)",
        fontsize=11,
        color=_DRIFT_COLOR if report["is_drift"] else "black",
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def plot_drift(
    report: dict[str, Any],
    reference_sample: pd.DataFrame,
    batch: pd.DataFrame,
    categorical_columns: Sequence[str],
    path: str | Path,
    max_panels: int = MAX_PANELS,
) -> Path:
    """Draw :func:`drift_figure` and save it as a PNG; return the written path."""
    fig = drift_figure(report, reference_sample, batch, categorical_columns, max_panels)
    path = Path(path)
    fig.savefig(path, dpi=PNG_DPI)
    return path
