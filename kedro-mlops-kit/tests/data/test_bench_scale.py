"""The scale benchmark: every stage runs on a (small) synthetic table and is reported."""

import pandas as pd

from kedro_mlops_kit.data import bench_scale


def test_stages_run_and_the_report_lists_time_and_memory(tmp_path):
    work = tmp_path / "rows-3000"
    work.mkdir()
    # The child-process path (wait4's peak RSS) on the cheap stage; the others in-process.
    generated = bench_scale._run_in_child("generate", work, 3_000, 1)
    raw = pd.read_parquet(work / "raw.parquet")
    assert raw.shape == (3_000, 30)
    assert raw["customer_id"].is_unique and raw["x00"].isna().any() and raw["store"].isna().any()
    assert generated["peak_rss_gb"] > 0 and generated["seconds"] > 0
    processing = bench_scale._stage("data_processing", work, 3_000, 1)
    assert processing["rows_kept"] == 3_000 and processing["network_inputs"] > 30
    assert set(bench_scale._stage("training", work, 3_000, 1)) == {"val_accuracy"}
    metrics = bench_scale._stage("evaluation", work, 3_000, 1)
    assert {"accuracy", "f1_macro", "log_loss"} <= set(metrics)
    records = [
        {"rows": 3_000, "stage": stage, "seconds": 1.0, "peak_rss_gb": 0.5}
        for stage in bench_scale.STAGES
    ]
    report = bench_scale.write_table(records, 1, tmp_path / "scale_benchmark.md").read_text()
    assert "| 3,000 | training | 1.0 | 0.50 |" in report
    assert "3,000 rows: pipeline (data processing + training + evaluation) 0.1 min" in report
