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
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient

from .errors import ServingError
from .export import DEFAULT_REPOSITORY, ExportSummary, install, verified_export
from .names import CHAMPION, DEFAULT_MODEL_NAME
from .registry import previous_version, resolve_alias
from .tabular_io import read_table

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
        # The registry moves before the repository: if the alias update fails, Triton still
        # serves the version the registry calls champion.
        client.set_registered_model_alias(model_name, alias, str(target))
        client.set_model_version_tag(model_name, str(target), ROLLED_BACK_FROM_TAG, str(current))
        summary = install(verified, repository, prune_newer=True)
    return RollbackSummary(model_name, current, target, summary)


def build_parser() -> argparse.ArgumentParser:
    """CLI arguments of the rollback command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--alias", default=CHAMPION)
    parser.add_argument(
        "--holdout", type=Path, required=True, help="CSV/Parquet rows to verify the re-export"
    )
    parser.add_argument("--model-repository", type=Path, default=DEFAULT_REPOSITORY)
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the rollback CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.tracking_uri:
        mlflow.set_tracking_uri(args.tracking_uri)
    try:
        summary = rollback(
            args.model_name, read_table(args.holdout), args.model_repository, args.alias
        )
    except ServingError as exc:
        print(f"rollback failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(summary), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
