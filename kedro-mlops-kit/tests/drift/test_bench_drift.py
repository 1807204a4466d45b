"""The drift benchmark (`kedro drift bench`) runs end to end at a tiny size and prints its table."""

from click.testing import CliRunner

from kedro_mlops_kit.drift.cli import drift


def test_benchmark_prints_one_row_per_detector_and_size(tmp_path):
    argv = ["bench", "--rows", "300", "--rows", "600", "--kinds", "ks", "--reference-rows", "400"]
    result = CliRunner().invoke(
        drift, [*argv, "--features", "4", "--output-dir", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ks |")]
    assert [row.split("|")[2].strip() for row in rows] == ["300", "600"]
    assert all(row.split("|")[9].strip() == "True" for row in rows), "the batch is shifted"
    assert (tmp_path / "ks_600" / "drift_report.json").is_file()


def test_benchmark_refuses_an_unknown_detector():
    result = CliRunner().invoke(drift, ["bench", "--kinds", "svm"])
    assert result.exit_code == 2
    assert "'svm' is not one of 'ks', 'mmd', 'tabular'" in result.stderr
