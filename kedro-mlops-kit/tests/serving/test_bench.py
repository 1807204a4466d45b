"""The load generator, the report and ``kedro serving bench`` against both real servers."""

import json
import re
import time

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from click.testing import CliRunner

from kedro_mlops_kit.serving.bench import (
    PYTHON_CLIENT_NOTE,
    schema_categories,
    synthetic_inputs,
)
from kedro_mlops_kit.serving.bench_report import markdown_table, triton_mlflow_ratios
from kedro_mlops_kit.serving.cli import serving
from kedro_mlops_kit.serving.contract import ModelSignature
from kedro_mlops_kit.serving.loadgen import LevelResult, run_level, summarise
from kedro_mlops_kit.serving.mlflow_serve import dataframe_split_body

from .conftest import MODEL_NAME
from .tiny_model import COLOUR, FEATURES, LABELS, SCORE, WIRE_TYPES, raw_table, table_schema


def test_run_level_runs_for_the_duration_after_a_warm_up():
    calls = []

    def make_sender():
        created = time.perf_counter()

        def send():
            calls.append(time.perf_counter())
            time.sleep(0.002)
            # Failures only once measured: a failing warm-up aborts the level.
            if time.perf_counter() - created > 0.25 and len(calls) % 5 == 0:
                raise RuntimeError("simulated failure")

        return send

    began = time.perf_counter()
    result = run_level(
        "fake", make_sender, batch_size=2, concurrency=3, duration_s=0.5, warmup_s=0.1
    )
    elapsed = time.perf_counter() - began
    assert 0.5 <= result.seconds < 0.5 + 0.5  # the window, plus the requests in flight
    assert elapsed >= 0.1 + result.seconds  # warm-up first, unmeasured
    assert 0 < result.errors < result.requests < len(calls)
    assert len(result.latencies_ms) == result.requests - result.errors
    assert result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.rows_per_s == pytest.approx(2 * result.requests_per_s)


def test_run_level_fails_fast_when_clients_cannot_connect():
    def make_sender():
        raise ConnectionRefusedError("nobody listening")

    with pytest.raises(RuntimeError, match="client setup failed"):
        run_level("down", make_sender, batch_size=1, concurrency=2, duration_s=5, warmup_s=0)


def _fake_level(target, batch, clients, rows_per_s):
    return LevelResult(target, batch, clients, len(rows_per_s), 100, 0, rows_per_s, 1.0, 1.5, 2.0)


def test_repetitions_are_summarised_with_their_spread():
    def sender_factory():
        return lambda: time.sleep(0.001)

    runs = [
        run_level(
            "t", sender_factory, batch_size=4, concurrency=1, duration_s=0.05, warmup_s=0,
            repeat=i,
        )
        for i in range(3)
    ]  # fmt: skip
    (level,) = summarise(runs)
    assert (level.repeats, level.requests) == (3, sum(r.requests for r in runs))
    assert level.rows_per_s == tuple(r.rows_per_s for r in runs)
    assert level.rows_per_s_min <= level.rows_per_s_mean <= level.rows_per_s_max
    assert level.rows_per_s_stdev >= 0
    report = markdown_table([_fake_level("fake", 2, 3, (100.0, 120.0, 110.0))], ["a note"])
    assert "| fake | 2 | 3 | 3 | 100 | 0 | 110 | 100-120 | 10 | 55 | 1.00 | 1.50 | 2.00 |" in report
    assert "- a note" in report


def test_triton_mlflow_ratio_pairs_repetitions_at_8_clients():
    results = [
        _fake_level("triton-grpc", 1, 8, (400.0, 300.0)),
        _fake_level("triton-grpc", 1, 1, (50.0, 50.0)),
        _fake_level("mlflow-serve", 1, 8, (100.0, 100.0)),
        _fake_level("mlflow-serve", 1, 1, (10.0, 10.0)),
    ]
    (note,) = triton_mlflow_ratios(results)
    assert "triton-grpc / mlflow-serve throughput at 8 clients, batch 1: 3.5x" in note
    assert "3.0x-4.0x over 2 run(s)" in note
    # Without an 8-client level, the highest measured one is used, and the note says so.
    (fallback,) = triton_mlflow_ratios(results[1::2])
    assert "at 1 clients (8 was not measured)" in fallback
    assert triton_mlflow_ratios(results[:2]) == []  # no baseline, no ratio


def test_synthetic_inputs_follow_the_wire_types():
    inputs = synthetic_inputs(
        WIRE_TYPES, 200, categories={COLOUR: ["a,b", "café"]}, nullable=[SCORE, COLOUR]
    )
    assert set(inputs) == set(WIRE_TYPES)
    dtypes = {"FP32": np.float32, "FP64": np.float64, "BOOL": np.bool_, "BYTES": np.object_}
    for name, array in inputs.items():
        assert array.shape == (200, 1)
        assert array.dtype == dtypes[WIRE_TYPES[name]]
    assert set(inputs[COLOUR].ravel()) == {"a,b", "café", ""}  # "" = missing text
    assert np.isnan(inputs[SCORE]).any()
    assert not np.isnan(inputs["age, years"]).any()  # not nullable: never missing
    stamps = pd.to_datetime(inputs["signup, day"].ravel(), unit="s")
    assert stamps.min().year >= 2015 and stamps.max().year <= 2025


def test_text_inputs_are_drawn_from_the_schemas_categories():
    schema = table_schema(raw_table(40)).pandera

    def contract(pandera_schema):
        return ModelSignature(
            tuple(FEATURES), dict(WIRE_TYPES), 3, "classification", tuple(LABELS),
            pandera_schema.to_yaml(),
        )  # fmt: skip

    assert schema_categories(contract(schema)) == {}  # inferred schemas list no categories
    declared = schema.update_column(COLOUR, checks=[pa.Check.isin(["a,b", "café"])])
    assert schema_categories(contract(declared)) == {COLOUR: ["a,b", "café"]}
    assert schema_categories(None) == {}


def test_dataframe_split_body_keeps_awkward_columns_and_missing_values():
    inputs = synthetic_inputs(WIRE_TYPES, 200, seed=3, nullable=[SCORE, COLOUR])
    text = dataframe_split_body(inputs).decode("utf-8")
    assert "NaN" in text  # bare NaN: mlflow's JSON parser accepts it
    body = json.loads(text)["dataframe_split"]
    assert body["columns"] == list(WIRE_TYPES)
    frame = pd.DataFrame(body["data"], columns=body["columns"])
    assert frame["scoré"].isna().sum() == np.isnan(inputs["scoré"]).sum() > 0
    assert frame["is member?"].dtype == bool


def test_bench_levels_must_be_positive_integers():
    result = CliRunner().invoke(serving, ["bench", "--model-name", "m", "--concurrency", "1,x"])
    assert result.exit_code == 2
    assert "'x' is not a positive integer" in result.output
    result = CliRunner().invoke(serving, ["bench", "--model-name", "m", "--duration", "0"])
    assert result.exit_code == 2


def _report_rows(report: str) -> dict[tuple[str, int, int], list[str]]:
    rows = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 13 and cells[1].isdigit():
            rows[(cells[0], int(cells[1]), int(cells[2]))] = cells
    return rows


@pytest.mark.triton
def test_benchmark_cli_writes_report_and_plot(exported_repo, triton_work_dir, tmp_path):
    out = tmp_path / "reporting"
    result = CliRunner().invoke(
        serving,
        [
            "bench", "--model-name", MODEL_NAME, "--model-repository", str(exported_repo),
            "--concurrency", "1,2", "--batch-sizes", "1", "--batch-sizes", "4",
            "--duration", "0.3", "--warmup", "0.05", "--repeats", "2",
            "--work-dir", str(triton_work_dir), "--output-dir", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    runs = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(runs) == 3 * 2 * 2 * 2  # targets x batch sizes x concurrency x repeats
    assert all(run["errors"] == 0 and run["requests"] > 0 for run in runs)
    report = (out / "serving_benchmark.md").read_text(encoding="utf-8")
    rows = _report_rows(report)
    for target in ("triton-http", "triton-grpc", "mlflow-serve"):
        for batch in (1, 4):
            for clients in (1, 2):
                cells = rows[(target, batch, clients)]
                assert cells[3:6][0] == "2" and cells[5] == "0", cells  # 2 runs, 0 errors
                assert re.fullmatch(r"[\d,]+-[\d,]+", cells[7]), cells  # min-max spread
    # Same graph behind both servers: the check is in the report.
    difference = re.search(r"max \|Triton - mlflow serve\| on 16 rows: (\S+)", report)
    assert difference and float(difference.group(1)) <= 1e-5
    assert "triton-grpc / mlflow-serve throughput at 2 clients (8 was not measured)" in report
    assert PYTHON_CLIENT_NOTE in report
    assert (out / "serving_benchmark.png").stat().st_size > 10_000
