"""Build the served ONNX graph (preprocessing + network) and prove it reproduces the model.

The graph takes one input per raw column, named by the column, in its wire type (see
:mod:`kedro_mlops_kit.features`): the fitted ``ColumnTransformer`` converted by skl2onnx,
joined with ``onnx.compose`` to the network exported by ``torch.onnx.export``.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import torch
from onnx import compose

from kedro_mlops_kit.features_onnx import ONNX_OPSET, TRANSFORMED, transformer_onnx
from kedro_mlops_kit.serving.errors import ExportVerificationError
from kedro_mlops_kit.serving.model_config import OUTPUT_NAME

# float32 networks: kernels differ between PyTorch and ONNX Runtime (fusion, summation order)
# by a few ULPs; 1e-4 absolute / 1e-3 relative is far below any meaningful change in a
# prediction.
ATOL = 1e-4
RTOL = 1e-3
_NETWORK_INPUT = "network_input"


def export_network(module: torch.nn.Module, example: np.ndarray, path: Path) -> None:
    """Export ``module`` (preprocessed matrix in, answers out) with a dynamic batch dimension.

    ``example`` must hold at least two rows: tracing with a batch of one lets the exporter
    specialise the batch dimension to the constant 1.
    """
    if example.ndim != 2 or example.shape[0] < 2:
        raise ExportVerificationError("export needs at least 2 example rows of shape [n, inputs]")
    batch = torch.export.Dim("batch", min=1, max=1_000_000)
    with warnings.catch_warnings(), torch.no_grad():
        # The exporter warns about optional torchvision ops; they are irrelevant here.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.from_numpy(example),),
            str(path),
            input_names=[_NETWORK_INPUT],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: batch},),
            opset_version=ONNX_OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def compose_served_graph(module: torch.nn.Module, holdout: pd.DataFrame) -> onnx.ModelProto:
    """Return the served graph of a ``ServingModule``: its preprocessing, then its network."""
    preprocessor = module.preprocessor
    front = transformer_onnx(preprocessor.transformer, preprocessor.kinds)
    example = preprocessor.transform(holdout.iloc[:2])
    with tempfile.TemporaryDirectory(prefix="onnx-network-") as tmp:
        path = Path(tmp) / "network.onnx"
        export_network(module, example, path)
        back = onnx.load(str(path))
    # Both halves must agree on the IR version and the default-domain opset to be joined.
    ir_version = min(front.ir_version, back.ir_version)
    front.ir_version = back.ir_version = ir_version
    back = compose.add_prefix(back, "network/", rename_inputs=False, rename_outputs=False)
    merged = compose.merge_models(front, back, io_map=[(TRANSFORMED, _NETWORK_INPUT)])
    onnx.checker.check_model(merged, full_check=True)
    return merged


def onnx_predict(path: Path, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Run the ONNX graph at ``path`` on per-column ``inputs`` with ONNX Runtime (CPU)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], inputs)[0]


def verify_onnx(
    path: Path,
    module: torch.nn.Module,
    rows: pd.DataFrame,
    *,
    atol: float = ATOL,
    rtol: float = RTOL,
) -> float:
    """Check the served graph answers raw ``rows`` as ``module`` does (whole batch and one row).

    Returns the largest absolute difference; raises ``ExportVerificationError`` otherwise.
    """
    expected = module.predict_frame(rows).astype(np.float32)
    inputs = module.preprocessor.wire(rows)
    actual = onnx_predict(path, inputs)
    # Batch size 1 separately: a wrongly specialised batch dimension only shows up there.
    single = onnx_predict(path, {name: value[:1] for name, value in inputs.items()})
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
            f"max |diff| = {max_diff:.3g} on {len(rows)} held-out rows"
        )
    return max_diff
