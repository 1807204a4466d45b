"""Model performance on labelled production data, beside the champion's test metrics.

``kedro production performance`` (``make performance``) computes the task's metrics on each
feedback file's labelled rows (``ProductionStore.labelled_batches``), puts them beside the
champion's test metrics (its registry tags), and writes
``data/08_reporting/performance_report.{json,md,png}``. When the latest batch with at least
``min_rows`` labelled rows is worse than the champion's test value of the primary metric by
more than ``max_drop`` (a fraction of that value), the report says ``is_degraded`` with its
reason, and ``kedro drift trigger --report .../performance_report.json`` starts retraining
as drift does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kedro_mlops_kit.evaluation.metrics import classification_metrics, regression_metrics
from kedro_mlops_kit.production.store import ProductionStore
from kedro_mlops_kit.tasks import CLASSIFICATION

__all__ = ["batch_metrics", "performance_report", "write_report"]

REPORT_DIR = Path("data/08_reporting")


def batch_metrics(rows: pd.DataFrame, target: str, task: str) -> dict[str, float]:
    """Compute the task's metrics of the recorded answers against the true ``target``."""
    if task == CLASSIFICATION:
        columns = [c for c in rows.columns if c.startswith("p_")]
        classes = [c.removeprefix("p_") for c in columns]
        truth = rows[target].astype(str).map({c: i for i, c in enumerate(classes)})
        return classification_metrics(truth.to_numpy(dtype=int), rows[columns].to_numpy())
    return regression_metrics(rows[target].to_numpy(dtype=float), rows["prediction"].to_numpy())


def performance_report(
    store: ProductionStore,
    *,
    target: str,
    task: str,
    metric: str,
    greater_is_better: bool,
    champion: dict[str, Any] | None,
    max_drop: float,
    min_rows: int = 30,
) -> dict[str, Any]:
    """Metrics per labelled batch, the champion's, and whether the latest batch degraded.

    Args:
        store: The production records.
        target: The target column.
        task: ``classification`` or ``regression``.
        metric: The primary metric (``evaluation.primary_metric``).
        greater_is_better: Its direction.
        champion: ``{"version": ..., "metrics": {...}}`` of the current champion, or None.
        max_drop: How much worse than the champion's test value the primary metric may get, as a
            fraction of that value (0.05: 5% worse).
        min_rows: Batches with fewer labelled rows are reported but not judged.
    """
    batches = []
    for feedback_id, rows in store.labelled_batches():
        versions = rows["model_version"].astype(str).value_counts()
        batches.append(
            {
                "feedback_id": feedback_id,
                "labelled_at": str(rows["labelled_at"].iloc[0]),
                "rows": len(rows),
                "model_version": str(versions.index[0]),
                "model_versions": sorted(versions.index.tolist()),
                "metrics": batch_metrics(rows, target, task),
            }
        )
    baseline = (champion or {}).get("metrics", {}).get(metric)
    judged = [b for b in batches if b["rows"] >= min_rows]
    degraded, reason = False, ""
    if judged and baseline is not None:
        latest = judged[-1]
        value = latest["metrics"][metric]
        # max_drop is a fraction of the champion's test value, so one setting fits every metric.
        margin = max_drop * abs(baseline)
        bound = baseline - margin if greater_is_better else baseline + margin
        degraded = value < bound if greater_is_better else value > bound
        verdict = "below" if greater_is_better else "above"
        if degraded:
            reason = (
                f"performance: {metric} {value:.4f} on {latest['rows']} labelled production rows "
                f"(feedback {latest['feedback_id']}, model {latest['model_version']}) is "
                f"{verdict} {bound:.4f} (champion v{champion['version']} test {baseline:.4f}, "
                f"max_drop {max_drop})"
            )
    return {
        "task": task,
        "metric": metric,
        "greater_is_better": greater_is_better,
        "max_drop": max_drop,
        "min_rows": min_rows,
        "champion": champion,
        "batches": batches,
        "is_degraded": degraded,
        "reason": reason,
    }


def _markdown(report: dict[str, Any]) -> str:
    metric = report["metric"]
    champion = report["champion"] or {}
    baseline = champion.get("metrics", {}).get(metric)
    names = sorted(report["batches"][0]["metrics"]) if report["batches"] else [metric]
    lines = [
        "# Production performance",
        "",
        f"Primary metric `{metric}` "
        f"({'higher' if report['greater_is_better'] else 'lower'} is better); champion "
        f"v{champion.get('version', '?')} test value "
        f"{'n/a' if baseline is None else f'{baseline:.4f}'}; "
        f"allowed drop {report['max_drop']:.0%} of it.",
        "",
        "| feedback | labelled at | rows | model | " + " | ".join(names) + " |",
        "|---|---|---:|---|" + "---:|" * len(names),
    ]
    for batch in report["batches"]:
        values = " | ".join(f"{batch['metrics'].get(n, float('nan')):.4f}" for n in names)
        lines.append(
            f"| {batch['feedback_id']} | {batch['labelled_at'][:19]} | {batch['rows']} | "
            f"v{batch['model_version']} | {values} |"
        )
    verdict = report["reason"] if report["is_degraded"] else "No degradation past the threshold."
    lines += ["", f"**{'DEGRADED' if report['is_degraded'] else 'OK'}**: {verdict}", ""]
    return "\n".join(lines)


def _figure(report: dict[str, Any]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = report["metric"]
    batches = report["batches"]
    figure, axis = plt.subplots(figsize=(8, 4))
    x = np.arange(len(batches))
    values = [b["metrics"][metric] for b in batches]
    axis.plot(x, values, marker="o", label=f"production {metric}")
    for i, batch in enumerate(batches):
        axis.annotate(
            f"v{batch['model_version']}",
            (i, values[i]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    baseline = ((report["champion"] or {}).get("metrics") or {}).get(metric)
    if baseline is not None:
        axis.axhline(baseline, color="green", linestyle="--", label="champion test")
        margin = report["max_drop"] * abs(baseline)
        bound = baseline - margin if report["greater_is_better"] else baseline + margin
        axis.axhline(bound, color="red", linestyle=":", label="retrain threshold")
    axis.set_xticks(x, [b["labelled_at"][:10] for b in batches], rotation=30, fontsize=8)
    axis.set_xlabel("labelled batch")
    axis.set_ylabel(metric)
    axis.legend(loc="best", fontsize=8)
    axis.set_title("Model performance on labelled production data")
    figure.tight_layout()
    return figure


def write_report(report: dict[str, Any], output_dir: Path = REPORT_DIR) -> list[Path]:
    """Write ``performance_report.{json,md,png}`` to ``output_dir``; return the paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = [output_dir / f"performance_report.{ext}" for ext in ("json", "md", "png")]
    paths[0].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(_markdown(report), encoding="utf-8")
    figure = _figure(report)
    figure.savefig(paths[2], dpi=100)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return paths


def log_report(report: dict[str, Any], model_name: str) -> str:
    """Log the report to the ``<model>-performance`` MLflow experiment; return the run id.

    The primary metric of each batch is a step of ``production_<metric>``; the latest batch's
    metrics are logged as ``latest_<name>``; the report files are artifacts.
    """
    import mlflow

    mlflow.set_experiment(f"{model_name}-performance")
    metric = report["metric"]
    with mlflow.start_run(run_name="production performance") as run:
        champion = report["champion"] or {}
        mlflow.set_tags(
            {
                "champion_version": str(champion.get("version", "")),
                "is_degraded": str(report["is_degraded"]).lower(),
                "reason": report["reason"][:500],
            }
        )
        for step, batch in enumerate(report["batches"]):
            mlflow.log_metric(f"production_{metric}", batch["metrics"][metric], step=step)
        if report["batches"]:
            latest = report["batches"][-1]["metrics"]
            mlflow.log_metrics({f"latest_{k}": v for k, v in latest.items()})
    return run.info.run_id
