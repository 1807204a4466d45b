"""Benchmark Triton (HTTP and gRPC) against ``mlflow models serve`` for the same model.

Starts both servers on loopback, runs a fixed number of requests per (target, batch size,
concurrency) level, and writes ``serving_benchmark.md`` and ``serving_benchmark.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Sequence
from contextlib import ExitStack, closing
from dataclasses import asdict
from pathlib import Path

import mlflow
import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

from .bench_report import markdown_table, plot
from .client import TritonClient
from .errors import ServingError
from .export import DEFAULT_REPOSITORY
from .loadgen import LevelResult, Sender, run_level
from .local_triton import LocalTriton
from .mlflow_serve import InvocationsClient, MlflowServe
from .model_config import INPUT_NAME, OUTPUT_NAME
from .names import CHAMPION, DEFAULT_MODEL_NAME
from .triton_runtime import DEFAULT_WORK_DIR

DEFAULT_OUTPUT_DIR = Path("data/08_reporting")


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


def build_parser() -> argparse.ArgumentParser:
    """CLI arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--model-repository", type=Path, default=DEFAULT_REPOSITORY)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--requests", type=int, default=1000, help="requests per level")
    parser.add_argument("--skip-mlflow", action="store_true", help="benchmark Triton only")
    parser.add_argument("--mlflow-workers", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.tracking_uri:
        mlflow.set_tracking_uri(args.tracking_uri)
    try:
        results, notes = run_benchmark(
            model_name=args.model_name,
            repository=args.model_repository,
            concurrency_levels=args.concurrency,
            batch_sizes=args.batch_sizes,
            requests_per_level=args.requests,
            include_mlflow=not args.skip_mlflow,
            mlflow_workers=args.mlflow_workers,
            work_dir=args.work_dir,
        )
    except ServingError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    args.output_dir.mkdir(parents=True, exist_ok=True)
    report = args.output_dir / "serving_benchmark.md"
    report.write_text(markdown_table(results, notes))
    plot(results, args.output_dir / "serving_benchmark.png")
    print(f"wrote {report} and {args.output_dir / 'serving_benchmark.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
