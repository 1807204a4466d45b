"""Export the registry's champion to ONNX, verify it, and install it in the Triton repository.

Command line: ``kedro serving export --holdout data/05_model_input/test.parquet``.
Nothing is written unless ONNX Runtime reproduces the PyTorch outputs on the held-out rows. The
serving contract (feature order, task, labels) goes into the ``model.onnx`` itself; existing
Triton configs are checked, and only their marked inputs-and-outputs block is rewritten (see
:mod:`kedro_mlops_kit.serving.model_config`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import onnx
import pandas as pd
import torch

from kedro_mlops_kit.serving.contract import ModelSignature, read_contract, write_contract
from kedro_mlops_kit.serving.errors import ModelRepositoryError
from kedro_mlops_kit.serving.model_config import declare_io, declares_io, ensure_configs
from kedro_mlops_kit.serving.model_repository import (
    MODEL_FILE,
    install_version,
    remove_versions_above,
    version_dirs,
)
from kedro_mlops_kit.serving.names import CHAMPION, DEFAULT_REPOSITORY
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL, compose_served_graph, verify_onnx
from kedro_mlops_kit.serving.registry import (
    LoadedModel,
    checked_model,
    load_version,
    resolve_alias,
    signature_of,
)
from kedro_mlops_kit.serving.tabular_io import read_table

__all__ = [
    "DEFAULT_REPOSITORY",
    "ExportSummary",
    "VerifiedExport",
    "export_alias",
    "export_version",
    "install",
    "verified_export",
]


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


def _holdout_rows(model: LoadedModel, holdout: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(holdout, pd.DataFrame):
        raise ModelRepositoryError("held-out rows must be a DataFrame with the raw columns")
    missing = [c for c in model.feature_columns if c not in holdout.columns]
    if missing or len(holdout) < 2:
        raise ModelRepositoryError(
            f"held-out rows must hold at least 2 rows and the model's columns; missing {missing}"
        )
    return holdout.reset_index(drop=True)


@contextmanager
def verified_export(
    model_name: str, version: int, holdout: pd.DataFrame
) -> Iterator[VerifiedExport]:
    """Load, export and verify a version; the ONNX file lives until the context exits.

    ``holdout`` holds raw rows (the model's feature columns by name, as in the raw table).
    """
    with _verified(load_version(model_name, version), holdout) as verified:
        yield verified


@contextmanager
def _verified(model: LoadedModel, holdout: pd.DataFrame) -> Iterator[VerifiedExport]:
    rows = _holdout_rows(model, holdout)
    # The contract is checked before the (slow) export, so a broken model fails fast.
    signature = signature_of(model, int(model.module.predict_frame(rows.iloc[:1]).shape[1]))
    with tempfile.TemporaryDirectory(prefix="onnx-export-") as tmp:
        onnx_path = Path(tmp) / MODEL_FILE
        onnx.save(compose_served_graph(model.module, rows), str(onnx_path))
        write_contract(onnx_path, signature)
        max_diff = verify_onnx(onnx_path, model.module, rows)
        yield VerifiedExport(model, onnx_path, signature, len(rows), max_diff)


def install(
    verified: VerifiedExport, repository: Path, *, prune_newer: bool = False
) -> ExportSummary:
    """Write a verified export into ``repository``; create its configs if it has none.

    Existing configs are checked against the export before anything is written; then their
    marked block is rewritten to declare this version's inputs and outputs, and other version
    folders with other inputs (which Triton could not load under that declaration) are removed.
    """
    model = verified.model
    model_dir = Path(repository) / model.name
    configs = ensure_configs(model_dir, model.name, verified.signature)
    installed = install_version(model_dir, model.version, verified.onnx_path)
    removed = []
    if any(declares_io(path) for path in configs):
        # Declared first: the new version loads under it at once; older ones with other
        # inputs (a schema change) could not, and go.
        for path in configs:
            declare_io(path, verified.signature)
        removed = _remove_other_inputs(model_dir, model.version, verified.signature)
    # Pruning comes last: it is the step that changes which version Triton serves by default.
    if prune_newer:
        removed += remove_versions_above(model_dir, model.version)
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


def _remove_other_inputs(model_dir: Path, version: int, signature: ModelSignature) -> list[int]:
    """Delete version folders whose inputs differ from ``signature``'s; return their numbers."""
    removed = []
    for number, folder in sorted(version_dirs(model_dir).items()):
        if number == version:
            continue
        try:
            theirs = read_contract(folder / MODEL_FILE)
            same = (theirs.feature_columns, theirs.datatypes, theirs.n_outputs) == (
                signature.feature_columns,
                signature.datatypes,
                signature.n_outputs,
            )
        except (ModelRepositoryError, OSError, ValueError):
            same = False  # no readable contract: it cannot be checked against the declaration
        if not same:
            shutil.rmtree(folder)
            removed.append(number)
    return removed


def export_version(
    model_name: str,
    version: int,
    holdout: pd.DataFrame,
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
            "Use `kedro serving rollback` to serve an older version."
        )
    with verified_export(model_name, version, holdout) as verified:
        # Only a verified graph reaches the repository.
        return install(verified, repository)


def export_module(
    module: torch.nn.Module,
    model_name: str,
    version: int,
    holdout: pd.DataFrame,
    repository: Path = DEFAULT_REPOSITORY,
) -> ExportSummary:
    """Export an in-memory trained module (a ``ServingModule``) as ``version`` of ``model_name``.

    The same checks and verification as a registered version, without the registry: for tests
    and notebooks that want to serve a freshly trained network.
    """
    with _verified(checked_model(model_name, version, module), holdout) as verified:
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
