"""Render benchmark results as a markdown table and a PNG plot, with the Triton/MLflow ratio."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: benchmarks run on servers and CI without a display
import matplotlib.pyplot as plt

from kedro_mlops_kit.serving.loadgen import LevelResult

MLFLOW_TARGET = "mlflow-serve"
RATIO_CONCURRENCY = 8


def markdown_table(results: Sequence[LevelResult], notes: Sequence[str] = ()) -> str:
    """Return a markdown report: one row per level, then free-form notes."""
    lines = [
        "| target | batch | clients | runs | requests | errors | rows/s mean | rows/s min-max "
        "| rows/s stdev | req/s mean | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.target} | {r.batch_size} | {r.concurrency} | {r.repeats} | {r.requests} "
            f"| {r.errors} | {r.rows_per_s_mean:,.0f} | {r.rows_per_s_min:,.0f}-"
            f"{r.rows_per_s_max:,.0f} | {r.rows_per_s_stdev:,.0f} | {r.requests_per_s_mean:,.0f} "
            f"| {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.p99_ms:.2f} |"
        )
    return "\n".join(["# Serving benchmark", "", *lines, "", *(f"- {n}" for n in notes), ""])


def triton_mlflow_ratios(
    results: Sequence[LevelResult], concurrency: int = RATIO_CONCURRENCY
) -> list[str]:
    """Throughput ratio of each Triton target to ``mlflow models serve``, as report notes.

    Taken at ``concurrency`` clients (the highest level measured when that one was not), per
    batch size. Repetitions are paired in order (they were interleaved across targets), so
    the spread is the min-max of the per-repetition ratios.
    """
    baseline = [r for r in results if r.target == MLFLOW_TARGET]
    if not baseline:
        return []
    levels = {r.concurrency for r in results}
    chosen = concurrency if concurrency in levels else max(levels)
    caveat = "" if chosen == concurrency else f" ({concurrency} was not measured)"
    notes = []
    for base in (r for r in baseline if r.concurrency == chosen):
        for triton in results:
            if triton.target == MLFLOW_TARGET or (triton.batch_size, triton.concurrency) != (
                base.batch_size,
                chosen,
            ):
                continue
            pairs = [
                t / m for t, m in zip(triton.rows_per_s, base.rows_per_s, strict=False) if m > 0
            ]
            if not pairs:
                continue
            notes.append(
                f"{triton.target} / mlflow-serve throughput at {chosen} clients{caveat}, batch "
                f"{base.batch_size}: {statistics.fmean(pairs):.1f}x (per-repetition "
                f"{min(pairs):.1f}x-{max(pairs):.1f}x over {len(pairs)} run(s))"
            )
    return notes


def plot(results: Sequence[LevelResult], path: Path) -> None:
    """Plot rows/s (mean, min-max bars) and p99 latency against concurrency.

    One line per target and batch size.
    """
    fig, (ax_tput, ax_p99) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = sorted({(r.target, r.batch_size) for r in results})
    for target, batch in series:
        points = sorted(
            (r for r in results if (r.target, r.batch_size) == (target, batch)),
            key=lambda r: r.concurrency,
        )
        label = f"{target} batch={batch}"
        concurrency = [r.concurrency for r in points]
        means = [r.rows_per_s_mean for r in points]
        spread = [
            [m - r.rows_per_s_min for m, r in zip(means, points, strict=True)],
            [r.rows_per_s_max - m for m, r in zip(means, points, strict=True)],
        ]
        ax_tput.errorbar(concurrency, means, yerr=spread, marker="o", capsize=3, label=label)
        ax_p99.plot(concurrency, [r.p99_ms for r in points], marker="o", label=label)
    ax_tput.set(
        xlabel="concurrent clients", ylabel="rows / s (mean, min-max)", title="Throughput",
        yscale="log",
    )  # fmt: skip
    ax_p99.set(xlabel="concurrent clients", ylabel="ms", title="p99 latency", yscale="log")
    for axis in (ax_tput, ax_p99):
        axis.grid(True, which="both", alpha=0.3)
    ax_tput.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
