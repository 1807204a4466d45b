"""Convert a PyTorch module to ONNX and prove the ONNX graph reproduces it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from kedro_mlops_kit.serving.errors import ExportVerificationError
from kedro_mlops_kit.serving.model_config import INPUT_NAME, OUTPUT_NAME

# Opset 18 is well inside what onnxruntime 1.31 implements and what the torch dynamo exporter
# emits natively, so no version-conversion pass (a source of subtle numeric changes) is needed.
ONNX_OPSET = 18
# float32 MLPs: kernels differ between PyTorch and ONNX Runtime (fusion, summation order) by a
# few ULPs; 1e-4 absolute / 1e-3 relative is far below any meaningful change in a prediction.
ATOL = 1e-4
RTOL = 1e-3


def export_onnx(module: torch.nn.Module, example: np.ndarray, path: Path) -> None:
    """Export ``module`` to ``path`` with a dynamic batch dimension.

    ``example`` must hold at least two rows: tracing with a batch of one lets the exporter
    specialise the batch dimension to the constant 1.
    """
    if example.ndim != 2 or example.shape[0] < 2:
        raise ExportVerificationError("export needs at least 2 example rows of shape [n, features]")
    batch = torch.export.Dim("batch", min=1, max=1_000_000)
    with warnings.catch_warnings(), torch.no_grad():
        # The exporter warns about optional torchvision ops; they are irrelevant to MLPs.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.from_numpy(example),),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: batch},),
            opset_version=ONNX_OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    onnx.checker.check_model(str(path), full_check=True)


def torch_predict(module: torch.nn.Module, rows: np.ndarray) -> np.ndarray:
    """Run ``module`` on float32 ``rows`` and return a float32 numpy array."""
    with torch.no_grad():
        return module(torch.from_numpy(rows)).detach().cpu().numpy().astype(np.float32)


def onnx_predict(path: Path, rows: np.ndarray) -> np.ndarray:
    """Run the ONNX graph at ``path`` on ``rows`` with ONNX Runtime's CPU provider."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: rows})[0]


def verify_onnx(
    path: Path,
    module: torch.nn.Module,
    rows: np.ndarray,
    *,
    atol: float = ATOL,
    rtol: float = RTOL,
) -> float:
    """Check the ONNX graph matches ``module`` on ``rows`` (whole batch and one row).

    Returns the largest absolute difference; raises ``ExportVerificationError`` otherwise.
    """
    expected = torch_predict(module, rows)
    actual = onnx_predict(path, rows)
    # Batch size 1 separately: a wrongly specialised batch dimension only shows up there.
    single = onnx_predict(path, rows[:1])
    if actual.shape != expected.shape or single.shape != expected[:1].shape:
        raise ExportVerificationError(
            f"ONNX output shape {actual.shape} (batch 1: {single.shape}) != PyTorch "
            f"{expected.shape}"
        )
    max_diff = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    both = np.concatenate([actual, single])
    reference = np.concatenate([expected, expected[:1]])
    if not np.allclose(both, reference, atol=atol, rtol=rtol, equal_nan=False):
        raise ExportVerificationError(
            f"ONNX outputs differ from PyTorch beyond atol={atol}, rtol={rtol}: "
            f"max |diff| = {max_diff:.3g} on {rows.shape[0]} held-out rows"
        )
    return max_diff
