"""Roll the champion back to the previous registered version and serve it.

Design (why the served champion stays unambiguous): Triton sends requests that name no version
to the HIGHEST loaded version, and ``latest { num_versions: 2 }`` loads the two highest version
folders. Re-exporting an older version next to a newer folder would therefore change nothing.
Rollback instead:

1. re-exports and verifies the previous version (nothing changes if that fails),
2. moves the ``champion`` alias to it in the registry (tagging the version it replaced),
3. deletes the newer version folder(s) from the repository.

Step 3 is what a polling Triton observes: it unloads the newer version, and the previous one
becomes the highest, i.e. the default target. The deleted ONNX files are build outputs that can
be re-created from the registry at any time (`export` of that version), so nothing is lost.
Rolling forward is a normal export after moving the alias back.
Command line: ``kedro serving rollback --holdout data/05_model_input/test.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient

from kedro_mlops_kit.serving.export import ExportSummary, install, verified_export
from kedro_mlops_kit.serving.model_config import ensure_configs
from kedro_mlops_kit.serving.names import CHAMPION, DEFAULT_REPOSITORY
from kedro_mlops_kit.serving.registry import previous_version, resolve_alias

__all__ = ["ROLLED_BACK_FROM_TAG", "RollbackSummary", "rollback"]

ROLLED_BACK_FROM_TAG = "serving.rolled_back_from"


@dataclass(frozen=True)
class RollbackSummary:
    """What a rollback did."""

    model_name: str
    from_version: int
    to_version: int
    export: ExportSummary


def rollback(
    model_name: str,
    holdout: pd.DataFrame,
    repository: Path = DEFAULT_REPOSITORY,
    alias: str = CHAMPION,
) -> RollbackSummary:
    """Point ``alias`` at the version before it and make the repository serve that version."""
    client = MlflowClient()
    current = resolve_alias(model_name, alias, client)
    target = previous_version(model_name, current, client)
    with verified_export(model_name, target, holdout) as verified:
        # Configs that cannot serve the target fail here, before anything has changed.
        ensure_configs(Path(repository) / model_name, model_name, verified.signature)
        # The registry moves before the repository: if the alias update fails, Triton still
        # serves the version the registry calls champion.
        client.set_registered_model_alias(model_name, alias, str(target))
        client.set_model_version_tag(model_name, str(target), ROLLED_BACK_FROM_TAG, str(current))
        summary = install(verified, repository, prune_newer=True)
    return RollbackSummary(model_name, current, target, summary)
