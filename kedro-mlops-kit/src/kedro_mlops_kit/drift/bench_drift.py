"""Benchmark the drift job (validation + detection + report) on 10k and 100k-row batches.

Usage (``make bench-drift``)::

    kedro drift bench [--rows 10000 --rows 100000] [--kinds ks --kinds mmd]
        [--reference-rows 20000] [--features 30] [--output-dir /tmp/drift-bench]

The reference is synthetic (correlated Gaussian features plus one integer-coded categorical
column) so the benchmark needs nothing but this package; the batches come from
:func:`simulate_batches`, i.e. the same shifted batch the tests use, at production size.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kedro_mlops_kit.drift.detectors import detect, fit_detector
from kedro_mlops_kit.drift.report import build_report, write_report
from kedro_mlops_kit.drift.schema import validate_batch
from kedro_mlops_kit.drift.simulate import simulate_batches

__all__ = ["run_benchmark", "synthetic_reference"]


def synthetic_reference(n_rows: int, n_features: int, seed: int = 0) -> pd.DataFrame:
    """Correlated Gaussian numeric features on mixed scales plus a 5-level categorical column."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(n_features, n_features)) / np.sqrt(n_features)
    scales = 10.0 ** rng.uniform(-1, 3, size=n_features)
    values = rng.normal(size=(n_rows, n_features)) @ mixing * scales
    frame = pd.DataFrame(values, columns=[f"f{i:02d}" for i in range(n_features)])
    frame["segment"] = rng.choice(5, size=n_rows, p=[0.4, 0.25, 0.15, 0.12, 0.08])
    return frame


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def run_benchmark(
    rows: Sequence[int] = (10_000, 100_000),
    kinds: Sequence[str] = ("ks", "mmd"),
    reference_rows: int = 20_000,
    features: int = 30,
    output_dir: Path | None = None,
) -> None:
    """Run the benchmark and print a markdown table of timings in seconds.

    Args:
        rows: Batch sizes to time.
        kinds: Detectors to time (``ks``, ``mmd``, ``tabular``).
        reference_rows: Rows of the synthetic reference the detectors are fitted on.
        features: Numeric features of the synthetic reference.
        output_dir: Keep each run's report under ``<kind>_<rows>/`` here (default: discard).
    """
    start = time.perf_counter()
    import alibi_detect  # noqa: F401  (timed on purpose: it is part of every job's start-up)

    import_s = time.perf_counter() - start

    reference = synthetic_reference(reference_rows, features)
    columns = list(reference.columns)
    categorical = ["segment"]
    largest = max(rows)
    batches = simulate_batches(reference, columns, categorical, n_rows=largest, seed=1)

    print(f"alibi-detect import: {import_s:.1f} s; reference {reference.shape}")
    print("| detector | batch rows | rows used | fit s | validate s | detect s | report s "
          "| job total s | drift | drifted features |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        out_root = output_dir or Path(scratch)
        for kind in kinds:
            bundle, fit_s = _timed(fit_detector, reference, columns, categorical, kind=kind)
            for n_rows in rows:
                batch = batches.shifted.iloc[:n_rows]
                validated, validate_s = _timed(validate_batch, batch, columns)
                result, detect_s = _timed(detect, bundle, validated.frame)
                started = time.perf_counter()
                report = build_report(bundle, validated, result, model_version="bench")
                write_report(report, bundle, validated.frame, out_root / f"{kind}_{n_rows}")
                report_s = time.perf_counter() - started
                total = validate_s + detect_s + report_s
                print(
                    f"| {kind} | {n_rows} | {result.n_batch_used} | {fit_s:.2f} "
                    f"| {validate_s:.2f} | {detect_s:.2f} | {report_s:.2f} | {total:.2f} "
                    f"| {report['is_drift']} | {', '.join(report['drifted_features'])} |"
                )
    print(f"truly shifted: {', '.join(batches.shifted_features)}")
