"""Command line for the drift job: runs the Kedro pipeline ``drift`` on one production batch.

Usage (from the project root, where ``pyproject.toml`` and ``conf/`` are)::

    python -m <package>.drift --batch data/01_raw/batch.parquet \
        [--detector-dir data/06_models/drift_detector] [--output-dir data/08_reporting] \
        [--model-version 3] [--model-name NAME] [--fail-on-drift]

Without ``--detector-dir`` the batch is checked against the detector of the registered model's
``champion`` in MLflow (``MLFLOW_TRACKING_URI``, else ``conf/base/mlflow.yml``), and the check
is logged to the ``<model>-drift`` experiment. The flags become the pipeline's runtime
parameters (``batch``, ``detector_dir``, ``report_dir``, ``model_version``, ``model_name``,
``drift.fail_on_drift``), so ``kedro run --pipeline drift --params ...`` does the same.

Exit codes (stable; CI jobs branch on them):

- 0: report written (drift or not, unless ``--fail-on-drift``).
- 2: the batch or detector could not be used (schema error, unreadable file, missing bundle or
  champion); the message says why.
- 3: drift detected and ``--fail-on-drift`` was given (the report is still written).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Only light imports up here: pandas, Kedro, MLflow and alibi-detect take seconds, which --help
# and a mistyped batch path should not cost.
from .batch_file import SchemaError, check_batch_path

__all__ = [
    "DEFAULT_OUTPUT_DIR",
    "EXIT_DRIFT",
    "EXIT_INPUT_ERROR",
    "EXIT_OK",
    "PIPELINE",
    "main",
    "runtime_params",
]

EXIT_OK = 0
EXIT_INPUT_ERROR = 2
EXIT_DRIFT = 3
PIPELINE = "drift"
# The catalog's default report folder (`report_dir`); the file names are the catalog's too.
DEFAULT_OUTPUT_DIR = Path("data/08_reporting")
_REPORT_FILES = ("drift_report.json", "drift_report.png", "drift_report.md")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m <package>.drift",
        description="Check a production batch for data drift against the training reference "
        "(runs the Kedro pipeline 'drift'; start it from the project root).",
        epilog="Exit codes: 0 ok; 2 invalid batch or detector; 3 drift with --fail-on-drift.",
    )
    parser.add_argument("--batch", required=True, type=Path, help="CSV or Parquet batch file")
    parser.add_argument(
        "--detector-dir",
        type=Path,
        help="check against this saved detector bundle instead of the champion's (the check "
        "is then not logged to MLflow)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"report folder (default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--model-version",
        help="model version recorded in the report with --detector-dir (default: "
        "$MODEL_VERSION or 'unknown'; the champion's own version otherwise)",
    )
    parser.add_argument(
        "--model-name",
        help="registered model whose champion is checked (default: the project's model, "
        "`model_name` in conf/base/catalog.yml)",
    )
    parser.add_argument(
        "--fail-on-drift",
        action="store_true",
        help=f"exit with code {EXIT_DRIFT} when drift is detected",
    )
    return parser.parse_args(argv)


def runtime_params(args: argparse.Namespace) -> dict[str, Any]:
    """Map the command-line flags to the drift pipeline's runtime parameters.

    Optional flags that were not given are left out, so the catalog's and parameters' defaults
    apply.
    """
    params: dict[str, Any] = {"batch": str(args.batch), "report_dir": str(args.output_dir)}
    if args.detector_dir is not None:
        params["detector_dir"] = str(args.detector_dir)
    if args.model_version is not None:
        params["model_version"] = str(args.model_version)
    if args.model_name:
        params["model_name"] = args.model_name
    if args.fail_on_drift:
        params["drift"] = {"fail_on_drift": True}
    return params


def _run_pipeline(params: dict[str, Any], project_dir: Path) -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_dir)
    with KedroSession.create(project_path=project_dir, runtime_params=params) as session:
        session.run(pipeline_names=[PIPELINE])


def _typed_cause(
    error: BaseException, types: tuple[type[BaseException], ...]
) -> BaseException | None:
    """Return the first error of ``types`` in ``error``'s cause chain, or ``None``.

    Kedro raises a node's own exception unchanged but wraps a failed dataset load (the batch,
    the champion's detector) in a ``DatasetError`` whose ``__cause__`` is the original.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, types):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


def _print_verdict(output_dir: Path) -> None:
    json_path, png_path, md_path = (output_dir / name for name in _REPORT_FILES)
    report = json.loads(json_path.read_text(encoding="utf-8"))
    verdict = "DRIFT" if report["is_drift"] else "no drift"
    drifted = ", ".join(report["drifted_features"]) or "-"
    print(f"{verdict} ({report['detector']}); drifted features: {drifted}")
    print(f"report: {json_path}  plot: {png_path}  summary: {md_path}")
    if report["extra_columns_ignored"]:
        print(f"ignored extra columns: {', '.join(report['extra_columns_ignored'])}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the drift job in the project of the current directory; return the exit code."""
    args = _parse_args(argv)
    try:
        check_batch_path(args.batch)
    except SchemaError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR

    # Kedro resolves the catalog's relative paths against the current directory, so the job
    # runs only from the project root.
    project_dir = Path.cwd()
    if not (project_dir / "pyproject.toml").is_file():
        print(
            f"error: {project_dir} is not the project root (no pyproject.toml): run the drift "
            "job from the folder that holds pyproject.toml and conf/",
            file=sys.stderr,
        )
        return EXIT_INPUT_ERROR

    from ..pipelines.drift.nodes import DriftDetectedError
    from .champion import ChampionDetectorError

    exit_code = EXIT_OK
    try:
        _run_pipeline(runtime_params(args), project_dir)
    except Exception as error:
        unusable = _typed_cause(error, (SchemaError, ChampionDetectorError, FileNotFoundError))
        if unusable is not None:
            print(f"error: {unusable}", file=sys.stderr)
            return EXIT_INPUT_ERROR
        if _typed_cause(error, (DriftDetectedError,)) is None:
            raise
        exit_code = EXIT_DRIFT

    _print_verdict(args.output_dir)
    return exit_code
