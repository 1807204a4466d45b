from pathlib import Path

import numpy as np
import pytest
import torch
from mlflow import MlflowClient

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving import export as export_module
from kedro_mlops_kit.serving.contract import read_contract, repository_contract
from kedro_mlops_kit.serving.errors import (
    ExportVerificationError,
    ModelContractError,
    ModelRepositoryError,
)
from kedro_mlops_kit.serving.export import export_version
from kedro_mlops_kit.serving.model_config import read_config
from kedro_mlops_kit.serving.onnx_export import (
    ATOL,
    RTOL,
    onnx_predict,
    torch_predict,
    verify_onnx,
)
from kedro_mlops_kit.serving.registry import LoadedModel, signature_of
from kedro_mlops_kit.serving_model import FeatureTransform, ServingModule, build_mlp

from .conftest import MODEL_NAME, register
from .tiny_model import FEATURES, LABELS, TinyMLP

# What the template renders as serving/model_repository/<model>/config.pbtxt: comments, no
# input/output (Triton auto-completes them from model.onnx), nothing derived from the model.
COMMITTED_CONFIG = """\
# Production Triton config of tabular_mlp (the official image's onnxruntime backend).
# Yours to edit: `kedro serving export` never rewrites this file.
name: "tabular_mlp"
backend: "onnxruntime"
max_batch_size: 256
# Keep the two newest versions loaded: the previous champion is one request away.
version_policy: { latest: { num_versions: 2 } }
dynamic_batching {
  max_queue_delay_microseconds: 500
}
instance_group [ { count: 1 kind: KIND_GPU } ]
"""


def test_exported_repository_layout_and_numerics(exported_repo: Path, registry, holdout):
    model_dir = exported_repo / MODEL_NAME
    rows = holdout[FEATURES].to_numpy(np.float32)
    for version, model in registry.items():
        onnx_file = model_dir / str(version) / "model.onnx"
        np.testing.assert_allclose(
            onnx_predict(onnx_file, rows), torch_predict(model, rows), atol=ATOL, rtol=RTOL
        )
    config = read_config(model_dir / "config.pbtxt")
    # Nothing derived from the model is written to configs: Triton reads the tensors from
    # model.onnx, and the contract lives inside it.
    assert not config.input
    assert not config.output
    assert not config.parameters
    assert (model_dir / "configs" / "cpu.pbtxt").is_file()


def test_contract_round_trips_awkward_names(exported_repo: Path):
    contract = repository_contract(exported_repo, MODEL_NAME)
    assert contract.feature_columns == tuple(FEATURES)
    assert contract.class_labels == tuple(LABELS)
    assert (contract.task, contract.n_features, contract.n_outputs) == ("classification", 4, 3)
    assert read_contract(exported_repo / MODEL_NAME / "1" / "model.onnx") == contract


def test_verification_fails_loudly_when_outputs_differ(exported_repo: Path, registry, holdout):
    rows = holdout[FEATURES].to_numpy(np.float32)
    v1_graph = exported_repo / MODEL_NAME / "1" / "model.onnx"
    with pytest.raises(ExportVerificationError, match="differ from PyTorch"):
        verify_onnx(v1_graph, registry[2], rows)


def test_failed_verification_writes_nothing(registry, holdout, tmp_path, monkeypatch):
    wrong = TinyMLP(n_outputs=3, task="classification", seed=99).eval()
    real_export = export_module.export_onnx

    def export_wrong_graph(module, example, path):
        real_export(wrong, example, path)

    monkeypatch.setattr(export_module, "export_onnx", export_wrong_graph)
    repo = tmp_path / "model_repository"
    with pytest.raises(ExportVerificationError):
        export_version(MODEL_NAME, 2, holdout, repo)
    assert not repo.exists() or not any(repo.rglob("*"))


def test_holdout_columns_are_matched_by_name(registry, holdout, tmp_path):
    shuffled = holdout.sample(frac=1.0, axis=1, random_state=3)
    summary = export_version(MODEL_NAME, 1, shuffled, tmp_path / "repo")
    assert summary.max_abs_diff <= ATOL
    with pytest.raises(Exception, match="missing feature columns"):
        export_version(MODEL_NAME, 1, holdout.drop(columns=[FEATURES[0]]), tmp_path / "repo")


def test_export_refuses_older_version_below_newer_folder(exported_repo: Path, holdout):
    with pytest.raises(ModelRepositoryError, match="newer versions \\[2\\]"):
        export_version(MODEL_NAME, 1, holdout, exported_repo)


def test_export_leaves_committed_configs_byte_identical(registry, holdout, tmp_path):
    model_dir = tmp_path / "repo" / MODEL_NAME
    (model_dir / "configs").mkdir(parents=True)
    production = model_dir / "config.pbtxt"
    cpu = model_dir / "configs" / "cpu.pbtxt"
    production.write_text(COMMITTED_CONFIG, encoding="utf-8")
    cpu.write_text(COMMITTED_CONFIG.replace("KIND_GPU", "KIND_CPU"), encoding="utf-8")
    before = {path: path.read_bytes() for path in (production, cpu)}
    summary = export_version(MODEL_NAME, 2, holdout, tmp_path / "repo")
    assert {Path(p) for p in summary.configs} == set(before)
    assert {path: path.read_bytes() for path in before} == before
    assert (model_dir / "2" / "model.onnx").is_file()


def test_config_pinning_other_dims_fails_before_writing(registry, holdout, tmp_path):
    model_dir = tmp_path / "repo" / MODEL_NAME
    model_dir.mkdir(parents=True)
    pinned = COMMITTED_CONFIG + (
        'input [ { name: "features" data_type: TYPE_FP32 dims: [ 30 ] } ]\n'
        'output [ { name: "predictions" data_type: TYPE_FP32 dims: [ 3 ] } ]\n'
    )
    (model_dir / "config.pbtxt").write_text(pinned, encoding="utf-8")
    with pytest.raises(ModelRepositoryError, match=r"dims: \[ 4 \]|Remove the"):
        export_version(MODEL_NAME, 2, holdout, tmp_path / "repo")
    assert (model_dir / "config.pbtxt").read_text(encoding="utf-8") == pinned
    assert sorted(p.name for p in model_dir.iterdir()) == ["config.pbtxt"]


def test_signature_treats_empty_class_labels_as_none():
    model = LoadedModel(
        name="reg",
        version=1,
        module=torch.nn.Linear(2, 1),
        feature_columns=("a", "b"),
        task="regression",
        class_labels=(),
    )
    signature = signature_of(model, n_outputs=1)
    assert signature.class_labels is None
    with pytest.raises(ModelContractError, match="2 class_labels but the model outputs 3"):
        signature_of(
            LoadedModel("clf", 1, model.module, ("a", "b"), "classification", ("x", "y")), 3
        )


def regression_module() -> ServingModule:
    """The training pipeline's own module class, for a regression task (empty class_labels)."""
    preprocessor = Preprocessor(
        task="regression",
        target="y",
        feature_columns=list(FEATURES),
        means=dict(zip(FEATURES, [40.0, 50_000.0, 0.5, 3.0], strict=True)),
        stds=dict(zip(FEATURES, [12.0, 20_000.0, 0.25, 2.0], strict=True)),
        target_mean=100.0,
        target_std=15.0,
    )
    torch.manual_seed(0)
    transform = FeatureTransform(preprocessor)
    network = torch.nn.Sequential(transform, build_mlp(transform.n_outputs, [8], 1, 0.0))
    return ServingModule(network, preprocessor).eval()


def test_regression_model_exports(tracking_uri, holdout, tmp_path):
    module = regression_module()
    assert module.class_labels == []
    version = register(module, name="tabular_reg")
    MlflowClient().set_registered_model_alias("tabular_reg", "champion", str(version))
    summary = export_version("tabular_reg", version, holdout, tmp_path / "repo")
    assert (summary.n_features, summary.n_outputs) == (4, 1)
    contract = repository_contract(tmp_path / "repo", "tabular_reg")
    assert (contract.task, contract.class_labels) == ("regression", None)
    rows = holdout[FEATURES].to_numpy(np.float32)
    onnx_file = tmp_path / "repo" / "tabular_reg" / str(version) / "model.onnx"
    np.testing.assert_allclose(
        onnx_predict(onnx_file, rows), torch_predict(module, rows), atol=ATOL, rtol=RTOL
    )
