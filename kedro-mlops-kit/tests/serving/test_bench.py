import time

import pytest
from click.testing import CliRunner

from kedro_mlops_kit.serving.bench_report import markdown_table
from kedro_mlops_kit.serving.cli import serving
from kedro_mlops_kit.serving.loadgen import run_level

from .conftest import MODEL_NAME


def test_run_level_counts_requests_and_errors():
    calls = []

    def make_sender():
        def send():
            calls.append(1)
            if len(calls) > 15 and len(calls) % 4 == 0:  # after the 3 x 5 warm-up calls
                raise RuntimeError("simulated failure")
            time.sleep(0.001)

        return send

    result = run_level("fake", make_sender, batch_size=2, concurrency=3, total_requests=40)
    assert len(calls) == 40 + 3 * 5  # measured + warm-up
    assert 0 < result.errors < 40
    assert result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.rows_per_s == pytest.approx(2 * result.requests_per_s)
    assert "| fake | 2 | 3 | 40 |" in markdown_table([result])


def test_run_level_fails_fast_when_clients_cannot_connect():
    def make_sender():
        raise ConnectionRefusedError("nobody listening")

    with pytest.raises(RuntimeError, match="client setup failed"):
        run_level("down", make_sender, batch_size=1, concurrency=2, total_requests=10)


def test_bench_levels_must_be_positive_integers():
    result = CliRunner().invoke(serving, ["bench", "--model-name", "m", "--concurrency", "1,x"])
    assert result.exit_code == 2
    assert "'x' is not a positive integer" in result.output


@pytest.mark.triton
def test_benchmark_cli_writes_report_and_plot(exported_repo, triton_work_dir, tmp_path):
    out = tmp_path / "reporting"
    result = CliRunner().invoke(
        serving,
        [
            "bench", "--model-name", MODEL_NAME, "--model-repository", str(exported_repo),
            "--concurrency", "1,2", "--batch-sizes", "1", "--batch-sizes", "4",
            "--requests", "30", "--work-dir", str(triton_work_dir), "--output-dir", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = (out / "serving_benchmark.md").read_text()
    for target in ("triton-http", "triton-grpc", "mlflow-serve"):
        assert f"| {target} | 4 | 2 | 30 | 0 |" in report
    assert (out / "serving_benchmark.png").stat().st_size > 10_000
