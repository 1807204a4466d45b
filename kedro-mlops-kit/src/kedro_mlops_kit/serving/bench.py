"""Benchmark Triton (HTTP and gRPC) against ``mlflow models serve`` for the same model.

Starts both servers on loopback, runs a fixed number of requests per (target, batch size,
concurrency) level, and writes ``serving_benchmark.md`` and ``serving_benchmark.png``.
Command line: ``kedro serving bench``.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from contextlib import ExitStack, closing
from dataclasses import asdict
from pathlib import Path

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

from kedro_mlops_kit.serving.bench_report import markdown_table, plot
from kedro_mlops_kit.serving.client import TritonClient
from kedro_mlops_kit.serving.loadgen import LevelResult, Sender, run_level
from kedro_mlops_kit.serving.local_triton import LocalTriton
from kedro_mlops_kit.serving.mlflow_serve import InvocationsClient, MlflowServe
from kedro_mlops_kit.serving.model_config import INPUT_NAME, OUTPUT_NAME
from kedro_mlops_kit.serving.names import CHAMPION, DEFAULT_WORK_DIR

__all__ = ["mlflow_sender", "run_benchmark", "synthetic_rows", "triton_sender", "write_report"]


def synthetic_rows(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """Standard-normal float32 rows: load testing needs valid shapes, not realistic values."""
    return np.random.default_rng(seed).standard_normal((n_rows, n_features)).astype(np.float32)


def triton_sender(url: str, protocol: str, model_name: str, rows: np.ndarray) -> Sender:
    """Return a sender that issues one pre-built inference request per call."""
    module = httpclient if protocol == "http" else grpcclient
    client = module.InferenceServerClient(url)
    infer_input = module.InferInput(INPUT_NAME, list(rows.shape), "FP32")
    infer_input.set_data_from_numpy(rows)
    outputs = [module.InferRequestedOutput(OUTPUT_NAME)]

    def send() -> None:
        client.infer(model_name, [infer_input], outputs=outputs)

    return send


def mlflow_sender(port: int, rows: np.ndarray) -> Sender:
    """Return a sender that POSTs ``rows`` to mlflow's ``/invocations``."""
    client = InvocationsClient(port)

    def send() -> None:
        client.predict(rows)

    return send


def run_benchmark(
    *,
    model_name: str,
    repository: Path,
    concurrency_levels: Sequence[int],
    batch_sizes: Sequence[int],
    requests_per_level: int,
    include_mlflow: bool = True,
    mlflow_workers: int = 1,
    work_dir: Path = DEFAULT_WORK_DIR,
) -> tuple[list[LevelResult], list[str]]:
    """Run every level against every target; return results and notes for the report."""
    results: list[LevelResult] = []
    notes = [f"host: {platform.node()} ({platform.machine()}), Python {platform.python_version()}"]
    with ExitStack() as servers:
        triton = servers.enter_context(
            LocalTriton(repository, work_dir=work_dir, poll_seconds=None)
        )
        notes.append(f"Triton start -> model ready: {triton.ready_seconds:.2f} s")
        with TritonClient(triton.http_url, "http", model_name) as probe:
            n_features = probe.info().n_features
            reference = probe.predict(synthetic_rows(8, n_features, seed=1))
        targets = {
            "triton-http": lambda rows: triton_sender(triton.http_url, "http", model_name, rows),
            "triton-grpc": lambda rows: triton_sender(triton.grpc_url, "grpc", model_name, rows),
        }
        if include_mlflow:
            serve = servers.enter_context(
                MlflowServe(
                    f"models:/{model_name}@{CHAMPION}",
                    workers=mlflow_workers,
                    log_file=work_dir / "logs" / "mlflow-serve.log",
                )
            )
            notes.append(
                f"mlflow models serve (--env-manager local, {mlflow_workers} worker(s)) start -> "
                f"ready: {serve.ready_seconds:.2f} s"
            )
            # Same model behind both servers: a large difference means the comparison is void.
            with closing(InvocationsClient(serve.port)) as check:
                baseline = check.predict(synthetic_rows(8, n_features, seed=1))
            notes.append(
                "max |Triton - mlflow serve| on 8 rows: "
                f"{float(np.max(np.abs(baseline - reference))):.2e}"
            )
            targets["mlflow-serve"] = lambda rows: mlflow_sender(serve.port, rows)
        for name, factory in targets.items():
            for batch in batch_sizes:
                rows = synthetic_rows(batch, n_features)
                for concurrency in concurrency_levels:
                    result = run_level(
                        name,
                        lambda factory=factory, rows=rows: factory(rows),
                        batch_size=batch,
                        concurrency=concurrency,
                        total_requests=requests_per_level,
                    )
                    print(json.dumps(asdict(result)), flush=True)
                    results.append(result)
    notes.append(
        f"{requests_per_level} requests per level after a 5-request warm-up per client; "
        "clients are Python threads on the same host (they compete with the servers for CPU)."
    )
    return results, notes


def write_report(
    results: Sequence[LevelResult], notes: Sequence[str], output_dir: Path
) -> tuple[Path, Path]:
    """Write ``serving_benchmark.md`` and ``serving_benchmark.png``; return both paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    report = output_dir / "serving_benchmark.md"
    report.write_text(markdown_table(results, notes))
    figure = output_dir / "serving_benchmark.png"
    plot(results, figure)
    return report, figure
