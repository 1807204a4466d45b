"""Render benchmark results as a markdown table and a PNG plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: benchmarks run on servers and CI without a display
import matplotlib.pyplot as plt

from kedro_mlops_kit.serving.loadgen import LevelResult


def markdown_table(results: Sequence[LevelResult], notes: Sequence[str] = ()) -> str:
    """Return a markdown report: one row per level, then free-form notes."""
    lines = [
        "| target | batch | concurrency | requests | errors | req/s | rows/s "
        "| p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.target} | {r.batch_size} | {r.concurrency} | {r.requests} | {r.errors} "
            f"| {r.requests_per_s:,.0f} | {r.rows_per_s:,.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} "
            f"| {r.p99_ms:.2f} |"
        )
    return "\n".join(["# Serving benchmark", "", *lines, "", *(f"- {n}" for n in notes), ""])


def plot(results: Sequence[LevelResult], path: Path) -> None:
    """Plot rows/s and p99 latency against concurrency, one line per target and batch size."""
    fig, (ax_tput, ax_p99) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = sorted({(r.target, r.batch_size) for r in results})
    for target, batch in series:
        points = sorted(
            (r for r in results if (r.target, r.batch_size) == (target, batch)),
            key=lambda r: r.concurrency,
        )
        label = f"{target} batch={batch}"
        concurrency = [r.concurrency for r in points]
        ax_tput.plot(concurrency, [r.rows_per_s for r in points], marker="o", label=label)
        ax_p99.plot(concurrency, [r.p99_ms for r in points], marker="o", label=label)
    ax_tput.set(xlabel="concurrent clients", ylabel="rows / s", title="Throughput", yscale="log")
    ax_p99.set(xlabel="concurrent clients", ylabel="ms", title="p99 latency", yscale="log")
    for axis in (ax_tput, ax_p99):
        axis.grid(True, which="both", alpha=0.3)
    ax_tput.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
