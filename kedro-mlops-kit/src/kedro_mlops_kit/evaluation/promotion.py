"""Registration node: log the model, set ``challenger``, promote to ``champion`` if earned."""

from __future__ import annotations

import getpass
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient

from kedro_mlops_kit.evaluation.gate import decide_promotion
from kedro_mlops_kit.evaluation.lineage import data_hash, git_commit, git_is_dirty
from kedro_mlops_kit.evaluation.registry import (
    Champion,
    current_champion,
    log_and_register,
    promote,
)
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import ServingModule

logger = logging.getLogger(__name__)


def promotion_decision(
    model: ServingModule,
    test_metrics: dict[str, float],
    gate_result: dict[str, Any],
    champion: Champion | None,
    primary: dict[str, Any],
    model_name: str,
) -> tuple[bool, str]:
    """Decide promotion, refusing to replace a champion of another task.

    A champion that lacks the primary metric (registered before ``primary_metric`` was
    changed) is replaced by a challenger that passes the gate; the reason says so.
    """
    name = primary["name"]
    # Replacing a champion of another task would silently change the serving contract.
    if (
        gate_result["passed"]
        and champion is not None
        and champion.task is not None
        and champion.task != model.task
    ):
        return False, (
            f"champion v{champion.version} of '{model_name}' is a {champion.task} model; "
            f"set evaluation.model_name to a separate name for {model.task} models"
        )
    return decide_promotion(
        gate_result["passed"],
        name,
        test_metrics[name],
        champion.metrics.get(name) if champion else None,
        primary["greater_is_better"],
        champion_version=champion.version if champion else None,
    )


@contextmanager
def _active_run() -> Iterator[mlflow.ActiveRun]:
    # kedro-mlflow normally owns the run; start one only when called outside its hook.
    run = mlflow.active_run()
    if run is not None:
        yield run
        return
    with mlflow.start_run() as started:
        yield started


def audit_tags(env: dict[str, str] | None = None) -> dict[str, str]:
    """Why this model was trained and who registered it: the run's audit tags.

    ``trigger``: the retraining pipeline's ``RETRAIN_REASON`` (drift or degraded performance),
    else ``manual``. ``promoted_by``: the GitLab job and its user inside CI, else
    ``user@host``.
    """
    env = dict(os.environ if env is None else env)
    reason = env.get("RETRAIN_REASON")
    trigger = f"retraining: {reason}" if reason else "manual"
    if env.get("CI_JOB_ID"):
        who = f"GitLab job {env['CI_JOB_ID']}"
        if env.get("GITLAB_USER_LOGIN"):
            who += f" (pipeline by {env['GITLAB_USER_LOGIN']})"
        if env.get("CI_JOB_URL"):
            who += f" {env['CI_JOB_URL']}"
    else:
        who = f"{getpass.getuser()}@{socket.gethostname()}"
    return {"trigger": trigger[:500], "promoted_by": who[:500]}


def register_model(
    model: ServingModule,
    test_metrics: dict[str, float],
    gate_result: dict[str, Any],
    training_history: list[dict[str, float]],
    preprocessor: Preprocessor,
    params: dict[str, Any],
    training_params: dict[str, Any],
    data_params: dict[str, Any],
) -> dict[str, Any]:
    """Log and register the model, set ``challenger``, and promote to ``champion`` if earned.

    Promotion requires a passed quality gate AND a primary metric at least as good as the
    current champion's. The decision is logged, tagged on the run and returned as a record.

    Args:
        model: Trained serving module.
        test_metrics: Test-set metrics.
        gate_result: Output of :func:`check_quality_gate`.
        training_history: Per-epoch records of the training run (how it was trained).
        preprocessor: Fitted preprocessing; its schema and encoded columns are logged.
        params: The ``evaluation`` parameters.
        training_params: The ``training`` parameters, stored as model metadata.
        data_params: The ``data_processing`` parameters, stored as model metadata.

    Returns:
        The promotion record written to ``data/08_reporting/promotion.json``.
    """
    model_name = params["model_name"]
    primary = params["primary_metric"][model.task]
    with _active_run() as run:
        md5, md5_source = data_hash(Path(params["raw_data_path"]))
        lineage = {
            "git_commit": git_commit() or "unknown",
            "git_dirty": str(git_is_dirty()),
            "data_md5": md5 or "unknown",
            "data_md5_source": md5_source,
            "task": model.task,
            # How many data-parallel processes trained the model (`make train NPROC=2`).
            "training_processes": str(training_history[-1].get("processes", 1)),
        }
        mlflow.set_tags(lineage)
        mlflow.log_text(preprocessor.schema.to_yaml(), "preprocessing/schema.yml")
        mlflow.log_dict(
            {
                "feature_columns": preprocessor.feature_columns,
                "kinds": preprocessor.kinds,
                "network_inputs": preprocessor.feature_names,
                "categories": preprocessor.categories,
            },
            "preprocessing/preprocessing.json",
        )

        champion = current_champion(MlflowClient(), model_name)
        version = log_and_register(
            model,
            model_name,
            test_metrics,
            params.get("pip_requirements"),
            metadata={
                "feature_columns": model.feature_columns,
                "task": model.task,
                "class_labels": model.class_labels,
                "training": training_params,
                "data_processing": data_params,
                **lineage,
            },
        )
        promoted, reason = promotion_decision(
            model, test_metrics, gate_result, champion, primary, model_name
        )
        if promoted:
            promote(model_name, version)
        failures = gate_result["failures"]
        audit = audit_tags()
        mlflow.set_tags(
            {
                "promoted": str(promoted),
                "promotion_reason": reason,
                "gate_failures": "; ".join(failures) if failures else "none",
                "registered_version": version,
                "previous_champion": champion.version if champion else "none",
                **audit,
            }
        )
        log = logger.info if promoted else logger.warning
        log(
            "%s v%s %s: %s%s",
            model_name,
            version,
            "promoted to champion" if promoted else "NOT promoted",
            reason,
            f" ({'; '.join(failures)})" if failures else "",
        )
        return {
            "model_name": model_name,
            "version": version,
            "run_id": run.info.run_id,
            "promoted": promoted,
            "reason": reason,
            "gate_passed": gate_result["passed"],
            "gate_failures": failures,
            "primary_metric": primary["name"],
            "value": test_metrics[primary["name"]],
            "previous_champion_version": champion.version if champion else None,
            "previous_champion_value": champion.metrics.get(primary["name"]) if champion else None,
            "aliases": ["challenger", "champion"] if promoted else ["challenger"],
            **lineage,
        }
