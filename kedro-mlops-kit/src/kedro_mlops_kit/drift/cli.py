"""``kedro drift ...``: the drift job and its helpers, as Kedro project commands.

- ``kedro drift check --batch PATH``: run the Kedro pipeline ``drift`` of the project in the
  current directory on one production batch (``make drift BATCH=path``).
- ``kedro drift simulate``: write a reference-like and a shifted batch (``make simulate-drift``).
- ``kedro drift bench``: time the drift job per detector and batch size (``make bench-drift``).
- ``kedro drift trigger --report PATH``: start a GitLab retraining pipeline if the report says
  the data drifted (the scheduled CI drift job).

``check`` without ``--detector-dir`` checks the batch against the detector of the registered
model's ``champion`` in MLflow (``MLFLOW_TRACKING_URI``, else ``conf/base/mlflow.yml``) and logs
the check to the ``<model>-drift`` experiment. Its options become the pipeline's runtime
parameters (``batch``, ``detector_dir``, ``report_dir``, ``model_version``, ``model_name``,
``drift.fail_on_drift``), so ``kedro run --pipeline drift --params ...`` does the same.

Exit codes of ``check`` (stable; CI jobs branch on them):

- 0: report written (drift or not, unless ``--fail-on-drift``).
- 2: the batch or detector could not be used (schema error, unreadable file, missing bundle or
  champion); the message says why.
- 3: drift detected and ``--fail-on-drift`` was given (the report is still written).

Exit codes of ``trigger``: 0 triggered, not needed (no drift) or dry run; 2 bad report or
settings; 4 GitLab refused the request or could not be reached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

# Only light imports up here: pandas, Kedro, MLflow and alibi-detect take seconds, which --help
# and a mistyped batch path should not cost.
from kedro_mlops_kit.drift.batch_file import SchemaError, check_batch_path

__all__ = [
    "DEFAULT_OUTPUT_DIR",
    "EXIT_DRIFT",
    "EXIT_INPUT_ERROR",
    "EXIT_OK",
    "PIPELINE",
    "drift",
    "runtime_params",
]

EXIT_OK = 0
EXIT_INPUT_ERROR = 2
EXIT_DRIFT = 3
PIPELINE = "drift"
# The catalog's default report folder (`report_dir`); the file names are the catalog's too.
DEFAULT_OUTPUT_DIR = Path("data/08_reporting")
_REPORT_FILES = ("drift_report.json", "drift_report.png", "drift_report.md")
_DETECTOR_KINDS = ("ks", "mmd", "tabular")


class _UnusableInputError(Exception):
    """The batch or detector cannot be used: exit code 2 with this message."""


@click.group(name="drift")
def drift() -> None:
    """Check production batches for data drift, simulate and benchmark it, trigger retraining."""


def runtime_params(
    batch: Path,
    output_dir: Path = DEFAULT_OUTPUT_DIR,
    detector_dir: Path | None = None,
    model_version: str | None = None,
    model_name: str | None = None,
    fail_on_drift: bool = False,
) -> dict[str, Any]:
    """Map the command's options to the drift pipeline's runtime parameters.

    Optional values that were not given are left out, so the catalog's and parameters'
    defaults apply.
    """
    params: dict[str, Any] = {"batch": str(batch), "report_dir": str(output_dir)}
    if detector_dir is not None:
        params["detector_dir"] = str(detector_dir)
    if model_version is not None:
        params["model_version"] = str(model_version)
    if model_name:
        params["model_name"] = model_name
    if fail_on_drift:
        params["drift"] = {"fail_on_drift": True}
    return params


def _default_model_name(detector_dir: Path | None) -> str | None:
    """Return the project's ``evaluation.model_name``, or ``None`` if a local bundle is used."""
    from kedro_mlops_kit.project import default_model_name

    try:
        return default_model_name()
    except click.ClickException as error:
        if detector_dir is not None:
            # A local bundle belongs to no registered model: the catalog's default will do.
            return None
        raise _UnusableInputError(error.format_message()) from error


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
    click.echo(f"{verdict} ({report['detector']}); drifted features: {drifted}")
    click.echo(f"report: {json_path}  plot: {png_path}  summary: {md_path}")
    if report["extra_columns_ignored"]:
        click.echo(f"ignored extra columns: {', '.join(report['extra_columns_ignored'])}")


def _fail(message: object, code: int = EXIT_INPUT_ERROR) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _check(
    batch: Path,
    detector_dir: Path | None,
    output_dir: Path,
    model_version: str | None,
    model_name: str | None,
    fail_on_drift: bool,
) -> int:
    """Run the drift job in the project of the current directory; return the exit code."""
    check_batch_path(batch)
    # Kedro resolves the catalog's relative paths against the current directory, so the job
    # runs only from the project root.
    project_dir = Path.cwd()
    if not (project_dir / "pyproject.toml").is_file():
        raise _UnusableInputError(
            f"{project_dir} is not the project root (no pyproject.toml): run the drift "
            "job from the folder that holds pyproject.toml and conf/"
        )
    if not model_name:
        model_name = _default_model_name(detector_dir)

    from kedro_mlops_kit.drift.champion import ChampionDetectorError
    from kedro_mlops_kit.drift.nodes import DriftDetectedError

    params = runtime_params(
        batch, output_dir, detector_dir, model_version, model_name, fail_on_drift
    )
    exit_code = EXIT_OK
    try:
        _run_pipeline(params, project_dir)
    except Exception as error:
        unusable = _typed_cause(error, (SchemaError, ChampionDetectorError, FileNotFoundError))
        if unusable is not None:
            raise _UnusableInputError(str(unusable)) from error
        if _typed_cause(error, (DriftDetectedError,)) is None:
            raise
        exit_code = EXIT_DRIFT
    _print_verdict(output_dir)
    return exit_code


@drift.command(
    name="check",
    epilog="Exit codes: 0 ok; 2 invalid batch or detector; 3 drift with --fail-on-drift.",
)
@click.option(
    "--batch",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet batch file to check.",
)
@click.option(
    "--detector-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Check against this saved detector bundle instead of the champion's (the check is "
    "then not logged to MLflow).",
)
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_OUTPUT_DIR,
    show_default=True,
    help="Report folder.",
)
@click.option(
    "--model-version",
    default=None,
    help="Model version recorded in the report with --detector-dir (default: $MODEL_VERSION "
    "or 'unknown'; the champion's own version otherwise).",
)
@click.option(
    "--model-name",
    default=None,
    help="Registered model whose champion is checked (default: the project's "
    "evaluation.model_name parameter).",
)
@click.option(
    "--fail-on-drift",
    is_flag=True,
    help=f"Exit with code {EXIT_DRIFT} when drift is detected (the report is still written).",
)
def check(
    batch: Path,
    detector_dir: Path | None,
    output_dir: Path,
    model_version: str | None,
    model_name: str | None,
    fail_on_drift: bool,
) -> None:
    """Check a production batch for drift: runs the pipeline 'drift' (from the project root)."""
    try:
        code = _check(batch, detector_dir, output_dir, model_version, model_name, fail_on_drift)
    except (SchemaError, _UnusableInputError) as error:
        _fail(error)
    else:
        sys.exit(code)


@drift.command(name="simulate")
@click.option(
    "--raw-data",
    type=click.Path(path_type=Path),
    default=Path("data/01_raw/dataset.csv"),
    show_default=True,
    help="Raw table the batches are resampled from.",
)
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(path_type=Path),
    default=Path("conf/base/schema.yml"),
    show_default=True,
    help="Table schema (which columns are numeric and may be shifted).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=Path("data/08_reporting/batches"),
    show_default=True,
    help="Folder for reference_like.csv, shifted.csv and simulation.json.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Resampling seed.")
def simulate(raw_data: Path, schema_file: Path, output: Path, seed: int) -> None:
    """Write a reference-like and a shifted batch drawn from the raw data."""
    for path in (raw_data, schema_file):
        if not path.is_file():
            _fail(f"{path} is missing: run `make schema` (and `make data`) first")
    from kedro_mlops_kit.drift.simulate import write_batches

    batches = write_batches(raw_data, schema_file, output, seed)
    click.echo(
        f"Wrote {output}/reference_like.csv and {output}/shifted.csv "
        f"(shifted: {', '.join(batches.shifted_features)})"
    )


@drift.command(name="bench")
@click.option(
    "--rows",
    type=click.IntRange(min=1),
    multiple=True,
    default=(10_000, 100_000),
    show_default=True,
    help="Batch size to time; repeat for several.",
)
@click.option(
    "--kinds",
    type=click.Choice(_DETECTOR_KINDS),
    multiple=True,
    default=("ks", "mmd"),
    show_default=True,
    help="Detector to time; repeat for several.",
)
@click.option(
    "--reference-rows",
    type=click.IntRange(min=1),
    default=20_000,
    show_default=True,
    help="Rows of the synthetic reference.",
)
@click.option(
    "--features",
    # The shifted batch moves four numeric features.
    type=click.IntRange(min=4),
    default=30,
    show_default=True,
    help="Numeric features of the synthetic reference (at least 4).",
)
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep the reports here (default: a temporary folder).",
)
def bench(
    rows: tuple[int, ...],
    kinds: tuple[str, ...],
    reference_rows: int,
    features: int,
    output_dir: Path | None,
) -> None:
    """Time the drift job (validate, detect, report) per detector and batch size."""
    from kedro_mlops_kit.drift.bench_drift import run_benchmark

    run_benchmark(list(rows), list(kinds), reference_rows, features, output_dir)


@drift.command(
    name="trigger",
    epilog="Exit codes: 0 ok (triggered, no drift, or dry run); 2 bad report or settings; "
    "4 trigger failed.",
)
@click.option(
    "--report",
    required=True,
    type=click.Path(path_type=Path),
    help="The drift_report.json of a drift check.",
)
@click.option("--dry-run", is_flag=True, help="Print the request (token redacted), send nothing.")
@click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="HTTP timeout in seconds."
)
def trigger(report: Path, dry_run: bool, timeout: float) -> None:
    """Start a GitLab retraining pipeline if the drift report shows drift.

    Settings come from the environment: CI_API_V4_URL, CI_PROJECT_ID, RETRAIN_TRIGGER_TOKEN or
    CI_JOB_TOKEN, RETRAIN_REF or CI_DEFAULT_BRANCH (all but the trigger token are set inside a
    GitLab CI job).
    """
    from kedro_mlops_kit.drift.retrain_trigger import trigger_retraining

    sys.exit(trigger_retraining(report, dry_run=dry_run, timeout_s=timeout))
