"""One severity order for every view of a report (JSON list, plot panels, markdown table)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["format_p_value", "severity_order"]


def severity_order(features: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Feature names, most severe first: smallest p-value, then largest statistic.

    Drifted features always come first because a feature is flagged exactly when its p-value
    is below the threshold. p-values underflow to 0 on large batches, so the statistic breaks
    those ties (KS and chi2 statistics are not on one scale; among tied p-values that is
    accepted as a display order).
    """

    def key(name: str) -> tuple[float, float]:
        entry = features[name]
        p_value = entry["p_value"] if entry["p_value"] is not None else 1.0
        return p_value, -(entry["statistic"] or 0.0)

    return sorted(features, key=key)


def format_p_value(p_value: float | None) -> str:
    """Short p-value text; an exact 0 is float underflow, not certainty, and says so."""
    if p_value is None:
        return "n/a"
    return "<1e-300" if p_value == 0 else f"{p_value:.3g}"
