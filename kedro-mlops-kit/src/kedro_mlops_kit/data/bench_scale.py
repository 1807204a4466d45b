"""Scale benchmark: wall time and peak memory of each pipeline stage on large mixed-type tables.

``kedro data bench-scale`` (``make bench-scale``) writes a synthetic table of ``rows`` rows and
30 columns (numbers with missing values, integers, text categories of 3 to 1,000 values, dates,
a boolean, an identifier, a three-class text target), then runs the project's stages on it, each
in a process of its own as DVC runs them: data processing (schema inference, validation, split,
preprocessing fit), training (the default network, a fixed budget of ``epochs``) and evaluation
(predictions in chunks, metrics). Each stage's wall time and peak resident memory (the
process's ``ru_maxrss``) go to ``data/08_reporting/scale_benchmark.md``.
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["STAGES", "run_benchmark", "write_table"]

TARGET = "label"
_CHUNK = 250_000
# Text categories: name -> number of distinct values (the last exceeds the frequency cap).
_CATEGORIES = {"region": 3, "channel": 10, "product": 50, "store": 200, "city": 1_000}
_NUMBERS, _INTEGERS = 18, 2
STAGES = ("generate", "data_processing", "training", "evaluation")


def _chunk(rows: int, seed: int, offset: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(rows, _NUMBERS)).astype(np.float64)
    frame = pd.DataFrame(numbers, columns=[f"x{i:02d}" for i in range(_NUMBERS)])
    for i in range(4):  # a few numbers are missing now and then
        frame.loc[rng.random(rows) < 0.05, f"x{i:02d}"] = np.nan
    for i in range(_INTEGERS):
        frame[f"count{i}"] = rng.poisson(3 + 2 * i, rows)
    score = numbers[:, 4] + 0.5 * numbers[:, 5]
    for name, n_values in _CATEGORIES.items():
        # Zipf-like frequencies, as real categories have.
        weights = 1.0 / np.arange(1, n_values + 1)
        codes = rng.choice(n_values, rows, p=weights / weights.sum())
        values = np.array([f"{name}_{c}" for c in range(n_values)], dtype=object)[codes]
        if name in ("channel", "store"):
            values[rng.random(rows) < 0.02] = None
        frame[name] = values
        if name == "region":
            score = score + (codes == 1) * 1.0
    start = np.datetime64("2020-01-01T00:00:00")
    frame["signup"] = start + rng.integers(0, 4 * 365 * 86_400, rows).astype("timedelta64[s]")
    last = start + rng.integers(0, 4 * 365 * 86_400, rows).astype("timedelta64[s]")
    frame["last_order"] = pd.Series(last).where(rng.random(rows) >= 0.03)
    frame["is_member"] = rng.random(rows) < 0.3
    frame["customer_id"] = [f"C{offset + i:010d}" for i in range(rows)]
    frame[TARGET] = np.select([score < -0.5, score < 0.7], ["low", "mid"], "high")
    return frame


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Write the synthetic table to ``path`` (Parquet), ``_CHUNK`` rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for number, offset in enumerate(range(0, rows, _CHUNK)):
            chunk = _chunk(min(_CHUNK, rows - offset), seed + number, offset)
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _params() -> dict:
    return {
        "task": "classification",
        "target": TARGET,
        "features": {"max_categories": 50, "min_frequency": 1},
        "split": {"strategy": "random", "validation_size": 0.1, "test_size": 0.1, "seed": 0},
    }


def _table(work: Path, name: str):
    from kedro_mlops_kit.table import TableDataset

    return TableDataset(str(work / f"{name}.parquet"))


def data_processing(work: Path) -> dict:
    """Infer the schema, validate, split and fit the preprocessing, as the project does.

    The raw table and the splits are the catalog's ``TableDataset``: read and written a chunk
    (Parquet row group) at a time.
    """
    from kedro_mlops_kit.data.splits import split_table
    from kedro_mlops_kit.data.validation import validate_raw_data
    from kedro_mlops_kit.preprocessor import fit_preprocessor
    from kedro_mlops_kit.schema import TableSchema, _profile, infer_schema

    raw = _table(work, "raw").load()
    sample, nullable, _ = _profile(raw)
    schema = TableSchema.from_yaml(infer_schema(sample, TARGET, None, nullable).to_yaml())
    del sample
    params = _params()
    validated, report = validate_raw_data(raw, schema, params)
    splits = split_table(validated, schema, params)
    for name, part in zip(("train", "validation", "test"), splits, strict=True):
        _table(work, name).save(part)
    preprocessor = fit_preprocessor(_table(work, "train").load(), schema, params)
    (work / "preprocessor.pkl").write_bytes(pickle.dumps(preprocessor))
    return {"network_inputs": preprocessor.n_inputs, "rows_kept": report["rows_kept"]}


def training(work: Path, epochs: int) -> dict:
    """Train the default network for ``epochs`` epochs (no early stop), reading the splits."""
    from kedro_mlops_kit.serving_model import build_mlp
    from kedro_mlops_kit.training.fit import train

    preprocessor = pickle.loads((work / "preprocessor.pkl").read_bytes())
    params = {
        "seed": 0,
        "device": "auto",
        "hidden_sizes": [64, 32],
        "dropout": 0.1,
        "batch_size": 1024,
        "epochs": epochs,
        "learning_rate": 0.001,
        "weight_decay": 0.0001,
        "patience": epochs + 1,
    }

    def build(state, p):
        return build_mlp(state.n_inputs, p["hidden_sizes"], state.n_outputs, p["dropout"])

    model, history = train(
        build,
        _table(work, "train").load(),
        _table(work, "validation").load(),
        preprocessor,
        params,
    )
    (work / "model.pkl").write_bytes(pickle.dumps(model))
    return {"val_accuracy": round(history[-1]["val_metric"], 4)}


def evaluation(work: Path) -> dict:
    """Predict the test split a chunk at a time and compute the task's metrics."""
    from kedro_mlops_kit.evaluation.metrics import test_set_metrics

    model = pickle.loads((work / "model.pkl").read_bytes())
    test = _table(work, "test").load()
    metrics = test_set_metrics(model, test, TARGET, model.predict_frame(test))
    return {name: round(value, 4) for name, value in metrics.items()}


def _stage(name: str, work: Path, rows: int, epochs: int) -> dict:
    if name == "generate":
        generate(work / "raw.parquet", rows)
        return {}
    if name == "data_processing":
        return data_processing(work)
    if name == "training":
        return training(work, epochs)
    return evaluation(work)


def _run_in_child(name: str, work: Path, rows: int, epochs: int) -> dict:
    """Run one stage in a fresh interpreter; return its wall time, peak RSS and facts."""
    code = (
        "import json, sys; from pathlib import Path; "
        "from kedro_mlops_kit.data.bench_scale import _stage; "
        f"print(json.dumps(_stage({name!r}, Path({str(work)!r}), {rows}, {epochs})))"
    )
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # wait4 gives this child's own resource usage (peak RSS in KiB on Linux).
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"stage {name} failed on {rows:,} rows:\n{err[-3000:]}")
    facts = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return {"stage": name, "seconds": seconds, "peak_rss_gb": usage.ru_maxrss / 1024**2, **facts}


def run_benchmark(rows: Sequence[int], epochs: int, work_dir: Path) -> list[dict]:
    """Run every stage at every row count; return one record per (rows, stage)."""
    results = []
    for n in rows:
        work = work_dir / f"rows-{n}"
        work.mkdir(parents=True, exist_ok=True)
        for stage in STAGES:
            record = {"rows": n, **_run_in_child(stage, work, n, epochs)}
            print(json.dumps(record), flush=True)
            results.append(record)
    return results


def write_table(results: Sequence[dict], epochs: int, output: Path) -> Path:
    """Write the markdown report: per row count and stage, wall time and peak RSS."""
    lines = [
        "# Scale benchmark",
        "",
        f"Synthetic table: 30 columns ({_NUMBERS} numbers, 4 with 5% missing; {_INTEGERS} "
        f"integers; {len(_CATEGORIES)} text categories of 3 to 1,000 values, 2 with 2% missing; "
        "2 dates; a boolean; an identifier; a three-class text target). Each stage runs in a "
        f"process of its own, as DVC runs them; training is a fixed budget of {epochs} epochs "
        "of the default network (batch 1,024). Peak RSS is the stage process's `ru_maxrss`.",
        "",
        "| rows | stage | wall s | peak RSS GB | facts |",
        "|---:|---|---:|---:|---|",
    ]
    for record in results:
        facts = {
            k: v for k, v in record.items() if k not in {"rows", "stage", "seconds", "peak_rss_gb"}
        }
        lines.append(
            f"| {record['rows']:,} | {record['stage']} | {record['seconds']:.1f} | "
            f"{record['peak_rss_gb']:.2f} | {json.dumps(facts) if facts else ''} |"
        )
    for n in sorted({r["rows"] for r in results}):
        stages = [r for r in results if r["rows"] == n and r["stage"] != "generate"]
        total = sum(r["seconds"] for r in stages)
        peak = max(r["peak_rss_gb"] for r in stages)
        lines.append(
            f"\n- {n:,} rows: pipeline (data processing + training + evaluation) "
            f"{total / 60:.1f} min, peak RSS {peak:.2f} GB"
        )
    cpus = os.cpu_count()
    lines.append(f"- host: {platform.node()} ({platform.machine()}, {cpus} CPUs)")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return output
