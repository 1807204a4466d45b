"""Quality gate and champion comparison: pure decisions, no MLflow calls."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GateResult:
    """Outcome of the quality gate; ``failures`` explains each broken bound."""

    task: str
    passed: bool
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return asdict(self)


def apply_quality_gate(
    metrics: dict[str, float], thresholds: dict[str, dict[str, float]], task: str
) -> GateResult:
    """Check ``metrics`` against ``{"min": {...}, "max": {...}}`` bounds for ``task``.

    A bound on a metric that was not computed counts as a failure: a gate that silently
    passes because a metric is missing would promote unchecked models.
    """
    failures = []
    for name, bound in (thresholds.get("min") or {}).items():
        value = metrics.get(name)
        if value is None or value < bound:
            failures.append(f"{name}={_fmt(value)} is below the minimum {bound}")
    for name, bound in (thresholds.get("max") or {}).items():
        value = metrics.get(name)
        if value is None or value > bound:
            failures.append(f"{name}={_fmt(value)} is above the maximum {bound}")
    return GateResult(task=task, passed=not failures, failures=failures)


def decide_promotion(
    gate_passed: bool,
    metric: str,
    value: float,
    champion_value: float | None,
    greater_is_better: bool,
    champion_version: str | None = None,
) -> tuple[bool, str]:
    """Return ``(promote, reason)``: promote only if the gate passed and not worse than champion.

    Ties promote, so retraining on unchanged data refreshes the champion to the newest lineage.

    A champion without a value for ``metric`` (``champion_value`` is ``None`` or NaN while
    ``champion_version`` names it) cannot be compared with: it was registered before the
    primary metric was changed. The gate alone then decides, and the reason says so; refusing
    instead would block every later promotion, since the champion never gains the metric.

    Args:
        gate_passed: Whether the challenger passed the quality gate.
        metric: The primary metric's name.
        value: The challenger's value of ``metric``.
        champion_value: The champion's value of ``metric``; ``None`` when there is no champion
            or it has no such value.
        greater_is_better: Direction of ``metric``.
        champion_version: The current champion's version; ``None`` when there is none.
    """
    if not gate_passed:
        return False, "quality gate failed"
    if champion_value is not None and math.isnan(champion_value):
        champion_value = None
    if champion_value is None:
        if champion_version is None:
            return True, f"no current champion; {metric}={value:.4f} passes the gate"
        return True, (
            f"champion v{champion_version} has no {metric}; promoted on the gate alone "
            f"({metric}={value:.4f})"
        )
    at_least_as_good = value >= champion_value if greater_is_better else value <= champion_value
    comparison = f"{metric}={value:.4f} vs champion {champion_value:.4f}"
    if at_least_as_good:
        return True, f"{comparison}: at least as good as the champion"
    return False, f"{comparison}: worse than the champion"


def _fmt(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4f}"
