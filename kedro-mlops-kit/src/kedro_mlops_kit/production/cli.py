"""``kedro production ...``: record production answers, ground truth and performance.

- ``score --batch PATH``: score a batch on the running server, record every answer.
- ``feedback --labels PATH``: join late ground truth to the recorded answers.
- ``performance``: metrics per labelled batch beside the champion's; degradation verdict.
- ``history``: the champion's lineage, one row per promotion that led to it.

Settings come from the project's parameters (``production``, ``data_processing``,
``evaluation``); errors name what is wrong and exit 2 (bad input) or 3 (server or registry).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

EXIT_INPUT_ERROR = 2
EXIT_SERVICE_ERROR = 3


def project_params() -> dict[str, Any]:
    """Read the project's parameters (``conf/base/parameters_*.yml``) as Kedro reads them."""
    from kedro.config import OmegaConfigLoader
    from kedro.framework.project import settings
    from kedro.framework.startup import bootstrap_project

    root = Path.cwd()
    bootstrap_project(root)
    loader = OmegaConfigLoader(
        str(root / settings.CONF_SOURCE), base_env="base", default_run_env="local"
    )
    return loader["parameters"]


def _settings() -> dict[str, Any]:
    params = project_params()
    data, evaluation = params["data_processing"], params["evaluation"]
    production = params.get("production") or {}
    task = data["task"]
    primary = evaluation["primary_metric"][task]
    performance = production.get("performance") or {}
    return {
        "model_name": evaluation["model_name"],
        "target": data["target"],
        "task": task,
        "metric": primary["name"],
        "greater_is_better": bool(primary["greater_is_better"]),
        "id_column": production.get("id_column"),
        "max_drop": float(performance.get("max_drop", 0.1)),
        "min_rows": int(performance.get("min_rows", 30)),
    }


def _fail(message: object, code: int = EXIT_INPUT_ERROR) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


@click.group(name="production")
def production() -> None:
    """Production records: scored batches, ground truth, performance monitoring."""


@production.command(name="score")
@click.option(
    "--batch", required=True, type=click.Path(path_type=Path), help="CSV or Parquet rows."
)
@click.option("--protocol", type=click.Choice(["http", "grpc"]), default="http", show_default=True)
@click.option("--url", default=None, help="host:port of the server (default: TRITON_*_PORT).")
@click.option(
    "--model-repository",
    type=click.Path(path_type=Path),
    default=Path("serving/model_repository"),
    show_default=True,
)
def score(batch: Path, protocol: str, url: str | None, model_repository: Path) -> None:
    """Score BATCH on the running server and record each row's answer and model version."""
    from kedro_mlops_kit.production.score import score_batch
    from kedro_mlops_kit.production.store import (
        ProductionInputError,
        ProductionStore,
        track_with_dvc,
    )
    from kedro_mlops_kit.serving.errors import InvalidInputError, ServingError
    from kedro_mlops_kit.serving.predict import default_url

    config = _settings()
    store = ProductionStore()
    try:
        summary = score_batch(
            batch,
            model_name=config["model_name"],
            url=url or default_url(protocol),
            protocol=protocol,
            repository=model_repository,
            store=store,
            id_column=config["id_column"],
        )
        summary["dvc"] = track_with_dvc(store)
    except (ProductionInputError, InvalidInputError) as error:
        _fail(error)
    except ServingError as error:
        _fail(error, EXIT_SERVICE_ERROR)
    click.echo(json.dumps(summary, indent=2))


@production.command(name="feedback")
@click.option(
    "--labels",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet with row_id and the target column.",
)
def feedback(labels: Path) -> None:
    """Join ground-truth LABELS to the recorded answers; add them to the labelled dataset."""
    from kedro_mlops_kit.production.feedback import record_feedback
    from kedro_mlops_kit.production.store import (
        ProductionInputError,
        ProductionStore,
        track_with_dvc,
    )
    from kedro_mlops_kit.serving.errors import InvalidInputError

    config = _settings()
    store = ProductionStore()
    try:
        summary = record_feedback(labels, target=config["target"], task=config["task"], store=store)
        summary["dvc"] = track_with_dvc(store)
    except (ProductionInputError, InvalidInputError) as error:
        _fail(error)
    if summary["unknown_ids"]:
        click.secho(
            f"warning: {summary['unknown_ids']} id(s) were never scored and were skipped "
            f"(e.g. {summary['unknown_id_examples']}).",
            fg="yellow",
            err=True,
        )
    click.echo(json.dumps(summary, indent=2))


@production.command(name="performance")
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path),
    default=Path("data/08_reporting"),
    show_default=True,
)
@click.option("--no-mlflow", is_flag=True, help="Write the report only; log nothing.")
def performance(output_dir: Path, no_mlflow: bool) -> None:
    """Metrics per labelled batch beside the champion's test metrics; say if it degraded."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from kedro_mlops_kit.evaluation.registry import current_champion
    from kedro_mlops_kit.production.performance import (
        log_report,
        performance_report,
        write_report,
    )
    from kedro_mlops_kit.production.store import ProductionStore

    config = _settings()
    store = ProductionStore()
    if not store.labelled_batches():
        _fail("No labelled production rows yet: `make score BATCH=...`, then `make feedback`.")
    try:
        champion = current_champion(MlflowClient(), config["model_name"])
    except MlflowException as error:
        _fail(f"cannot read the registry: {error}", EXIT_SERVICE_ERROR)
    report = performance_report(
        store,
        target=config["target"],
        task=config["task"],
        metric=config["metric"],
        greater_is_better=config["greater_is_better"],
        champion=None if champion is None else vars(champion),
        max_drop=config["max_drop"],
        min_rows=config["min_rows"],
    )
    paths = write_report(report, output_dir)
    if not no_mlflow:
        log_report(report, config["model_name"])
    verdict = report["reason"] if report["is_degraded"] else "no degradation past the threshold"
    click.echo(f"{verdict}\n" + "\n".join(str(p) for p in paths))


@production.command(name="history")
@click.option("--limit", type=int, default=20, show_default=True, help="Most versions to show.")
def history(limit: int) -> None:
    """Print the champion's lineage: why each version was trained and promoted, on what."""
    from mlflow.exceptions import MlflowException

    from kedro_mlops_kit.evaluation.history import champion_lineage, lineage_table
    from kedro_mlops_kit.registry import AliasNotFoundError

    config = _settings()
    try:
        rows = champion_lineage(config["model_name"], config["metric"], limit=limit)
    except AliasNotFoundError as error:
        _fail(error)
    except MlflowException as error:
        _fail(f"cannot read the registry: {error}", EXIT_SERVICE_ERROR)
    click.echo(lineage_table(rows, config["metric"]))
