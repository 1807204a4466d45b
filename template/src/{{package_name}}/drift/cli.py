"""Command line for the drift job: validate a batch, detect drift, write the report.

Usage::

    python -m <package>.drift --batch data/01_raw/batch.parquet \
        [--detector-dir data/06_models/drift_detector] [--output-dir data/08_reporting] \
        [--model-version 3] [--fail-on-drift]

Exit codes (stable; CI jobs branch on them):

- 0: report written (drift or not, unless ``--fail-on-drift``).
- 2: the batch or detector could not be used (schema error, unreadable file, missing bundle);
  the message says why.
- 3: drift detected and ``--fail-on-drift`` was given (the report is still written).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .report import DEFAULT_OUTPUT_DIR, run_drift_check, write_report
from .schema import SchemaError, load_batch

__all__ = ["DEFAULT_DETECTOR_DIR", "EXIT_DRIFT", "EXIT_INPUT_ERROR", "EXIT_OK", "main"]

EXIT_OK = 0
EXIT_INPUT_ERROR = 2
EXIT_DRIFT = 3
DEFAULT_DETECTOR_DIR = Path("data/06_models/drift_detector")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m <package>.drift",
        description="Check a production batch for data drift against the training reference.",
        epilog="Exit codes: 0 ok; 2 invalid batch or detector; 3 drift with --fail-on-drift.",
    )
    parser.add_argument("--batch", required=True, type=Path, help="CSV or Parquet batch file")
    parser.add_argument(
        "--detector-dir",
        type=Path,
        default=DEFAULT_DETECTOR_DIR,
        help=f"saved detector bundle (default: {DEFAULT_DETECTOR_DIR})",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"report folder (default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--model-version",
        default=os.environ.get("MODEL_VERSION", "unknown"),
        help="model version recorded in the report (default: $MODEL_VERSION or 'unknown')",
    )
    parser.add_argument(
        "--model-name",
        help="check against this registered model's champion: its detector and version come "
        "from MLflow (MLFLOW_TRACKING_URI), and the drift metrics are logged there",
    )
    parser.add_argument(
        "--fail-on-drift",
        action="store_true",
        help=f"exit with code {EXIT_DRIFT} when drift is detected",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the drift job and return the process exit code."""
    args = _parse_args(argv)
    try:
        batch = load_batch(args.batch)
    except (SchemaError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR

    # Imported after the batch is read: loading alibi-detect takes seconds, and a missing or
    # unreadable file should fail immediately.
    from .champion import ChampionDetectorError, fetch_champion_detector, log_drift_metrics
    from .detectors import load_detector_bundle

    try:
        detector_dir, model_version = args.detector_dir, args.model_version
        if args.model_name:
            detector_dir, model_version = fetch_champion_detector(args.model_name)
        bundle = load_detector_bundle(detector_dir)
        report, validated = run_drift_check(bundle, batch, model_version=model_version)
    except (SchemaError, FileNotFoundError, ChampionDetectorError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR

    paths = write_report(report, bundle, validated.frame, args.output_dir)
    if args.model_name:
        log_drift_metrics(report, args.model_name, args.batch)
    verdict = "DRIFT" if report["is_drift"] else "no drift"
    drifted = ", ".join(report["drifted_features"]) or "-"
    print(f"{verdict} ({report['detector']}); drifted features: {drifted}")
    print(f"report: {paths.json}  plot: {paths.png}  summary: {paths.markdown}")
    if validated.extra_columns:
        print(f"ignored extra columns: {', '.join(validated.extra_columns)}")
    if report["is_drift"] and args.fail_on_drift:
        return EXIT_DRIFT
    return EXIT_OK
