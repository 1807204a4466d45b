"""Export the registry's champion to ONNX, verify it, and install it in the Triton repository.

Usage: ``python -m <package>.serving.export --holdout data/05_model_input/test.parquet``.
Nothing is written unless ONNX Runtime reproduces the PyTorch outputs on the held-out rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from .errors import ModelRepositoryError, ServingError
from .model_config import ModelSignature, sync_config_dims
from .model_repository import MODEL_FILE, install_version, remove_versions_above, version_dirs
from .names import CHAMPION, DEFAULT_MODEL_NAME
from .onnx_export import ATOL, RTOL, export_onnx, torch_predict, verify_onnx
from .registry import (
    LoadedModel,
    load_version,
    resolve_alias,
    signature_of,
)
from .tabular_io import feature_matrix, read_table

DEFAULT_REPOSITORY = Path("serving/model_repository")


@dataclass(frozen=True)
class ExportSummary:
    """What an export did; printed as JSON by the CLI."""

    model_name: str
    version: int
    model_path: str
    configs: list[str]
    n_features: int
    n_outputs: int
    verified_rows: int
    max_abs_diff: float
    atol: float
    rtol: float
    removed_versions: list[int]


@dataclass(frozen=True)
class VerifiedExport:
    """An ONNX file (in a temp dir) proven to reproduce a registered model version."""

    model: LoadedModel
    onnx_path: Path
    signature: ModelSignature
    verified_rows: int
    max_abs_diff: float


def _holdout_matrix(model: LoadedModel, holdout: np.ndarray | pd.DataFrame) -> np.ndarray:
    if isinstance(holdout, pd.DataFrame):
        return feature_matrix(holdout, model.feature_columns)
    rows = np.ascontiguousarray(holdout, dtype=np.float32)
    if rows.ndim != 2 or rows.shape[1] != len(model.feature_columns):
        raise ModelRepositoryError(
            f"held-out rows have shape {rows.shape}; expected [n, {len(model.feature_columns)}]"
        )
    return rows


@contextmanager
def verified_export(
    model_name: str, version: int, holdout: np.ndarray | pd.DataFrame
) -> Iterator[VerifiedExport]:
    """Load, export and verify a version; the ONNX file lives until the context exits.

    ``holdout`` is a DataFrame with the feature columns by name, or a [n, n_features] matrix
    already in the model's feature order.
    """
    model = load_version(model_name, version)
    rows = _holdout_matrix(model, holdout)
    with tempfile.TemporaryDirectory(prefix="onnx-export-") as tmp:
        onnx_path = Path(tmp) / MODEL_FILE
        export_onnx(model.module, rows[:2], onnx_path)
        max_diff = verify_onnx(onnx_path, model.module, rows)
        n_outputs = int(torch_predict(model.module, rows[:1]).shape[1])
        yield VerifiedExport(model, onnx_path, signature_of(model, n_outputs), len(rows), max_diff)


def install(
    verified: VerifiedExport, repository: Path, *, prune_newer: bool = False
) -> ExportSummary:
    """Write a verified export into ``repository`` and sync the configs to its signature."""
    model = verified.model
    model_dir = Path(repository) / model.name
    installed = install_version(model_dir, model.version, verified.onnx_path)
    configs = sync_config_dims(model_dir, model.name, verified.signature)
    # Pruning comes last: it is the step that changes which version Triton serves by default.
    removed = remove_versions_above(model_dir, model.version) if prune_newer else []
    return ExportSummary(
        model_name=model.name,
        version=model.version,
        model_path=str(installed),
        configs=[str(p) for p in configs],
        n_features=verified.signature.n_features,
        n_outputs=verified.signature.n_outputs,
        verified_rows=verified.verified_rows,
        max_abs_diff=verified.max_abs_diff,
        atol=ATOL,
        rtol=RTOL,
        removed_versions=removed,
    )


def export_version(
    model_name: str,
    version: int,
    holdout: np.ndarray | pd.DataFrame,
    repository: Path = DEFAULT_REPOSITORY,
) -> ExportSummary:
    """Export registered ``version`` of ``model_name`` into ``repository`` after verification.

    Newer version folders in the repository are an error: Triton routes unversioned requests to
    the highest loaded version and would keep serving them (use rollback for older versions).
    """
    model_dir = Path(repository) / model_name
    newer = sorted(v for v in version_dirs(model_dir) if v > version)
    if newer:
        raise ModelRepositoryError(
            f"{model_dir} holds newer versions {newer}; Triton would keep serving v{newer[-1]}. "
            "Use the rollback command to serve an older version."
        )
    with verified_export(model_name, version, holdout) as verified:
        # Only a verified graph reaches the repository.
        return install(verified, repository)


def export_alias(
    model_name: str,
    holdout_path: Path,
    repository: Path = DEFAULT_REPOSITORY,
    alias: str = CHAMPION,
) -> ExportSummary:
    """Export the version ``alias`` points at, verifying on the rows of ``holdout_path``."""
    version = resolve_alias(model_name, alias)
    return export_version(model_name, version, read_table(holdout_path), repository)


def build_parser() -> argparse.ArgumentParser:
    """CLI arguments of the export command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--alias", default=CHAMPION, help="registry alias to export")
    parser.add_argument(
        "--holdout",
        type=Path,
        required=True,
        help="CSV/Parquet of held-out rows (named feature columns) used to verify the export",
    )
    parser.add_argument("--model-repository", type=Path, default=DEFAULT_REPOSITORY)
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the export CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.tracking_uri:
        mlflow.set_tracking_uri(args.tracking_uri)
    try:
        summary = export_alias(args.model_name, args.holdout, args.model_repository, args.alias)
    except ServingError as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(summary), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
