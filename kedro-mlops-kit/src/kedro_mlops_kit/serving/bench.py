"""Benchmark Triton (HTTP and gRPC) against ``mlflow models serve`` for the same ONNX graph.

Both servers run the exported ``model.onnx`` of the version Triton serves (the highest in the
repository): Triton through its onnxruntime backend, MLflow through a small pyfunc written at
bench time (:func:`~kedro_mlops_kit.serving.mlflow_serve.save_onnx_pyfunc`), so the comparison
measures the servers, not two different models. Requests carry synthetic rows generated per
served input from the server's metadata and the contract's schema, one column per input as
real clients send them. Every (target, batch size, concurrency) level runs for a fixed duration
after a warm-up, and the whole sweep is repeated (repetitions interleaved across targets, so a
slow phase of the host does not fall on one target only). Writes ``serving_benchmark.md`` and
``serving_benchmark.png``. Command line: ``kedro serving bench``.
"""

from __future__ import annotations

import json
import platform
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import asdict
from pathlib import Path

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

from kedro_mlops_kit.serving.bench_report import markdown_table, plot, triton_mlflow_ratios
from kedro_mlops_kit.serving.client import TritonClient
from kedro_mlops_kit.serving.contract import ModelSignature, repository_contract
from kedro_mlops_kit.serving.errors import InferenceError, ModelRepositoryError
from kedro_mlops_kit.serving.loadgen import (
    DEFAULT_DURATION_S,
    DEFAULT_REPEATS,
    DEFAULT_WARMUP_S,
    LevelResult,
    RunResult,
    Sender,
    run_level,
    summarise,
)
from kedro_mlops_kit.serving.local_triton import LocalTriton
from kedro_mlops_kit.serving.mlflow_serve import (
    InvocationsClient,
    MlflowServe,
    dataframe_split_body,
    save_onnx_pyfunc,
)
from kedro_mlops_kit.serving.model_config import OUTPUT_NAME
from kedro_mlops_kit.serving.model_repository import MODEL_FILE
from kedro_mlops_kit.serving.names import DEFAULT_WORK_DIR
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL

__all__ = [
    "PYTHON_CLIENT_NOTE",
    "mlflow_sender",
    "run_benchmark",
    "synthetic_inputs",
    "triton_sender",
    "write_report",
]

# Unix seconds of 2015-01-01 and 2025-01-01: the range synthetic datetimes are drawn from.
_FIRST_STAMP, _LAST_STAMP = 1_420_070_400.0, 1_735_689_600.0
_MISSING_SHARE = 0.05
_SHORT_STRINGS = tuple(f"value {i}" for i in range(8))
PYTHON_CLIENT_NOTE = (
    "The load comes from Python client threads on the same host as the servers: they share its "
    "CPUs with the servers, and the Python client (GIL, request encoding) saturates before "
    "Triton does. NVIDIA's perf_analyzer (C++) measured ~6,100 inf/s on this server where the "
    "Python client reached ~3,400-4,100. Read the figures as lower bounds and compare the "
    "targets with each other, not with other hosts."
)


def schema_categories(contract: ModelSignature | None) -> dict[str, list[str]]:
    """Return the allowed values of text columns whose schema declares them (``isin`` checks)."""
    if contract is None or not contract.schema_yaml:
        return {}
    columns = contract.schema().pandera.columns
    categories = {}
    for name in contract.feature_columns:
        for check in getattr(columns.get(name), "checks", None) or ():
            allowed = (check.statistics or {}).get("allowed_values")
            if check.name == "isin" and allowed:
                categories[name] = [str(v) for v in allowed]
    return categories


def synthetic_inputs(
    datatypes: Mapping[str, str],
    n_rows: int,
    *,
    seed: int = 0,
    categories: Mapping[str, Sequence[str]] | None = None,
    nullable: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """One ``[n_rows, 1]`` array per served input, in its wire type.

    FP32: standard-normal values; FP64: Unix seconds between 2015 and 2025 (datetimes); BOOL:
    fair coin flips; BYTES: drawn from ``categories`` of the column when given, else short
    strings. Columns in ``nullable`` get about 5% missing values (NaN, or the empty string).
    Load testing needs valid requests of the right shape, not realistic values.
    """
    rng = np.random.default_rng(seed)
    categories = categories or {}
    inputs = {}
    for name, datatype in datatypes.items():
        missing = (rng.random(n_rows) < _MISSING_SHARE) & (name in nullable)
        if datatype == "FP32":
            values = rng.standard_normal(n_rows).astype(np.float32)
            values[missing] = np.nan
        elif datatype == "FP64":
            values = np.floor(rng.uniform(_FIRST_STAMP, _LAST_STAMP, n_rows))
            values[missing] = np.nan
        elif datatype == "BOOL":
            values = rng.random(n_rows) < 0.5
        elif datatype == "BYTES":
            pool = list(categories.get(name) or _SHORT_STRINGS)
            values = np.array([pool[i] for i in rng.integers(0, len(pool), n_rows)], object)
            values[missing] = ""
        else:
            raise ModelRepositoryError(
                f"served input {name!r} has data type {datatype}; the benchmark generates FP32, "
                "FP64, BOOL and BYTES inputs (what `kedro serving export` produces)"
            )
        inputs[name] = values.reshape(-1, 1)
    return inputs


def triton_sender(
    url: str, protocol: str, model_name: str, inputs: Mapping[str, np.ndarray], datatypes
) -> Sender:
    """Return a sender that issues one pre-built inference request (one input per column)."""
    module = httpclient if protocol == "http" else grpcclient
    client = module.InferenceServerClient(url)
    infer_inputs = []
    for name, values in inputs.items():
        infer_input = module.InferInput(name, list(values.shape), datatypes[name])
        infer_input.set_data_from_numpy(np.ascontiguousarray(values))
        infer_inputs.append(infer_input)
    outputs = [module.InferRequestedOutput(OUTPUT_NAME)]

    def send() -> None:
        client.infer(model_name, infer_inputs, outputs=outputs)

    return send


def mlflow_sender(port: int, inputs: Mapping[str, np.ndarray]) -> Sender:
    """Return a sender that POSTs the same rows to mlflow's ``/invocations`` (dataframe_split)."""
    client = InvocationsClient(port)
    body = dataframe_split_body(inputs)  # encoded once, as Triton's request is

    def send() -> None:
        client.post(body)

    return send


def _served_version(versions: Sequence[str], model_name: str) -> str:
    """Return the version Triton answers unversioned requests with: the highest loaded."""
    if not versions:
        raise ModelRepositoryError(f"Triton lists no loaded version of {model_name!r}")
    return max(versions, key=int)


def _contract(repository: Path, model_name: str, version: str) -> ModelSignature | None:
    try:
        return repository_contract(repository, model_name, version)
    except ModelRepositoryError:
        return None


def run_benchmark(
    *,
    model_name: str,
    repository: Path,
    concurrency_levels: Sequence[int],
    batch_sizes: Sequence[int],
    duration_s: float = DEFAULT_DURATION_S,
    warmup_s: float = DEFAULT_WARMUP_S,
    repeats: int = DEFAULT_REPEATS,
    include_mlflow: bool = True,
    mlflow_workers: int = 1,
    work_dir: Path = DEFAULT_WORK_DIR,
    on_run: Callable[[RunResult], None] | None = None,
) -> tuple[list[LevelResult], list[str]]:
    """Run every level against every target ``repeats`` times; return results and report notes.

    ``on_run`` is called after each measured run (the CLI prints it as a JSON line).

    Raises:
        ServingError: A server did not start, or the two servers answer the same rows
            differently (the comparison would be void).
    """
    runs: list[RunResult] = []
    notes = [f"host: {platform.node()} ({platform.machine()}), Python {platform.python_version()}"]
    with ExitStack() as stack:
        triton = stack.enter_context(LocalTriton(repository, work_dir=work_dir, poll_seconds=None))
        notes.append(f"Triton start -> model ready: {triton.ready_seconds:.2f} s")
        with TritonClient(triton.http_url, "http", model_name) as probe:
            info = probe.info()
            version = _served_version(info.versions, model_name)
            contract = _contract(repository, model_name, version)
            datatypes = info.datatypes
            nullable = []
            if contract is not None and contract.schema_yaml:
                schema = contract.schema()
                nullable = [c for c in datatypes if c in schema.kinds and schema.nullable(c)]
            categories = schema_categories(contract)

            def make_inputs(n_rows: int, seed: int = 0) -> dict[str, np.ndarray]:
                return synthetic_inputs(
                    datatypes, n_rows, seed=seed, categories=categories, nullable=nullable
                )

            check_rows = make_inputs(16, seed=1)
            reference = probe.predict(check_rows)
        notes.append(
            f"model {model_name} v{version}: {len(datatypes)} inputs "
            f"({', '.join(sorted(set(datatypes.values())))}), synthetic rows "
            f"({'categories from the schema' if categories else 'short strings for text'}, "
            f"~{_MISSING_SHARE:.0%} missing in nullable columns)"
        )
        targets: dict[str, Callable[[dict[str, np.ndarray]], Sender]] = {
            "triton-http": lambda rows: triton_sender(
                triton.http_url, "http", model_name, rows, datatypes
            ),
            "triton-grpc": lambda rows: triton_sender(
                triton.grpc_url, "grpc", model_name, rows, datatypes
            ),
        }
        if include_mlflow:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pyfunc-")))
            onnx_path = Path(repository) / model_name / version / MODEL_FILE
            pyfunc = save_onnx_pyfunc(onnx_path, folder / "pyfunc")
            serve = stack.enter_context(
                MlflowServe(
                    str(pyfunc),
                    workers=mlflow_workers,
                    log_file=Path(work_dir) / "logs" / "mlflow-serve.log",
                )
            )
            notes.append(
                f"mlflow models serve (--env-manager local, {mlflow_workers} worker(s)) of a "
                f"pyfunc running the same {onnx_path.name} with ONNX Runtime: start -> ready "
                f"{serve.ready_seconds:.2f} s"
            )
            # Same graph behind both servers: a difference means the comparison is void.
            with closing(InvocationsClient(serve.port)) as check:
                baseline = check.predict(check_rows)
            difference = float(np.max(np.abs(baseline - reference)))
            if not np.allclose(baseline, reference, atol=ATOL, rtol=RTOL):
                raise InferenceError(
                    f"mlflow models serve and Triton answer the same 16 rows differently (max "
                    f"|diff| {difference:.3g}): the benchmark would compare two models"
                )
            notes.append(f"max |Triton - mlflow serve| on 16 rows: {difference:.2e}")
            targets["mlflow-serve"] = lambda rows: mlflow_sender(serve.port, rows)
        rows_by_batch = {batch: make_inputs(batch) for batch in batch_sizes}
        for repeat in range(repeats):
            for name, factory in targets.items():
                for batch in batch_sizes:
                    for concurrency in concurrency_levels:
                        try:
                            run = run_level(
                                name,
                                lambda factory=factory, rows=rows_by_batch[batch]: factory(rows),
                                batch_size=batch,
                                concurrency=concurrency,
                                duration_s=duration_s,
                                warmup_s=warmup_s,
                                repeat=repeat,
                            )
                        except RuntimeError as exc:  # a client could not connect or warm up
                            raise InferenceError(str(exc)) from exc
                        runs.append(run)
                        if on_run is not None:
                            on_run(run)
    notes.append(
        f"each level: {warmup_s:g} s warm-up per client, then {duration_s:g} s measured, "
        f"{repeats} repetition(s) interleaved across targets; throughput is the mean over the "
        "repetitions with its min-max and standard deviation, latency percentiles pool every "
        "request of every repetition"
    )
    notes.append(PYTHON_CLIENT_NOTE)
    levels = summarise(runs)
    notes.extend(triton_mlflow_ratios(levels))
    return levels, notes


def run_json(run: RunResult) -> str:
    """Return one measured run as a JSON line (latencies left out)."""
    record = asdict(run)
    record.pop("latencies_ms", None)
    record["rows_per_s"] = run.rows_per_s
    return json.dumps(record)


def write_report(
    results: Sequence[LevelResult], notes: Sequence[str], output_dir: Path
) -> tuple[Path, Path]:
    """Write ``serving_benchmark.md`` and ``serving_benchmark.png``; return both paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    report = output_dir / "serving_benchmark.md"
    report.write_text(markdown_table(results, notes), encoding="utf-8")
    figure = output_dir / "serving_benchmark.png"
    plot(results, figure)
    return report, figure
