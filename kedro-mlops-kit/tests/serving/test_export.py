"""Export: the served graph (preprocessing + network) reproduces the model, or nothing is
written."""

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from mlflow import MlflowClient

from kedro_mlops_kit.serving import export as export_mod
from kedro_mlops_kit.serving.contract import read_contract, repository_contract
from kedro_mlops_kit.serving.errors import (
    ExportVerificationError,
    ModelContractError,
    ModelRepositoryError,
)
from kedro_mlops_kit.serving.export import export_module, export_version
from kedro_mlops_kit.serving.model_config import read_config
from kedro_mlops_kit.serving.onnx_export import ATOL, RTOL, onnx_predict, verify_onnx
from kedro_mlops_kit.serving.registry import LoadedModel, signature_of

from .conftest import MODEL_NAME, register
from .tiny_model import (
    AGE,
    FEATURES,
    LABELS,
    TARGET,
    WIRE_TYPES,
    awkward_rows,
    tiny_model,
)

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
    for version, model in registry.items():
        onnx_file = model_dir / str(version) / "model.onnx"
        # One input per raw column, named by the column itself (commas, quotes, accents).
        graph = onnx.load(str(onnx_file))
        assert sorted(i.name for i in graph.graph.input) == sorted(FEATURES)
        np.testing.assert_allclose(
            onnx_predict(onnx_file, model.preprocessor.wire(holdout)),
            model.predict_frame(holdout),
            atol=ATOL,
            rtol=RTOL,
        )
    # The configs export created declare the served inputs (one per raw column, in its wire
    # type) and the output; class labels stay in model.onnx's contract.
    signature = repository_contract(exported_repo, MODEL_NAME)
    for path in (model_dir / "config.pbtxt", model_dir / "configs" / "cpu.pbtxt"):
        config = read_config(path)
        assert [t.name for t in config.input] == list(signature.feature_columns)
        assert sorted(signature.feature_columns) == sorted(FEATURES)
        assert [list(t.dims) for t in config.output] == [[signature.n_outputs]]
        assert not config.parameters


def test_contract_round_trips_awkward_names(exported_repo: Path, registry):
    contract = repository_contract(exported_repo, MODEL_NAME)
    preprocessor = registry[2].preprocessor
    assert contract.feature_columns == tuple(preprocessor.feature_columns)
    assert sorted(contract.feature_columns) == sorted(FEATURES)
    assert contract.datatypes == WIRE_TYPES
    assert contract.class_labels == tuple(LABELS)
    assert (contract.task, contract.n_features, contract.n_outputs) == ("classification", 6, 3)
    # The schema travels with the model: clients check rows against it.
    assert contract.schema().kinds == preprocessor.schema.kinds
    assert contract.schema().target == TARGET
    assert read_contract(exported_repo / MODEL_NAME / "1" / "model.onnx") == contract


def test_served_graph_handles_missing_unseen_and_awkward_values(exported_repo: Path, registry):
    rows = awkward_rows()
    graph = exported_repo / MODEL_NAME / "2" / "model.onnx"
    assert verify_onnx(graph, registry[2], rows) <= ATOL
    answers = registry[2].predict_frame(rows)
    assert np.isfinite(answers).all()
    np.testing.assert_allclose(answers.sum(axis=1), 1.0, rtol=1e-5)


def test_verification_fails_loudly_when_outputs_differ(exported_repo: Path, registry, holdout):
    v1_graph = exported_repo / MODEL_NAME / "1" / "model.onnx"
    with pytest.raises(ExportVerificationError, match="differ from PyTorch"):
        verify_onnx(v1_graph, registry[2], holdout)


def test_failed_verification_writes_nothing(registry, holdout, tmp_path, monkeypatch):
    wrong = tiny_model(seed=99)
    real_compose = export_mod.compose_served_graph

    def compose_wrong_graph(module, rows):
        return real_compose(wrong, rows)

    monkeypatch.setattr(export_mod, "compose_served_graph", compose_wrong_graph)
    repo = tmp_path / "model_repository"
    with pytest.raises(ExportVerificationError):
        export_version(MODEL_NAME, 2, holdout, repo)
    assert not repo.exists() or not any(repo.rglob("*"))


def test_holdout_columns_are_matched_by_name(registry, holdout, tmp_path):
    shuffled = holdout.sample(frac=1.0, axis=1, random_state=3)
    summary = export_version(MODEL_NAME, 1, shuffled, tmp_path / "repo")
    assert summary.max_abs_diff <= ATOL
    assert (summary.n_features, summary.verified_rows) == (6, len(holdout))
    with pytest.raises(ModelRepositoryError, match=r"missing \['age, years'\]"):
        export_version(MODEL_NAME, 1, holdout.drop(columns=[AGE]), tmp_path / "repo")
    with pytest.raises(ModelRepositoryError, match="at least 2 rows"):
        export_version(MODEL_NAME, 1, holdout.head(1), tmp_path / "repo")


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


def test_config_pinning_a_features_matrix_fails_before_writing(registry, holdout, tmp_path):
    model_dir = tmp_path / "repo" / MODEL_NAME
    model_dir.mkdir(parents=True)
    # What v0.2 projects committed: one FP32 matrix instead of one input per column.
    pinned = COMMITTED_CONFIG + (
        'input [ { name: "features" data_type: TYPE_FP32 dims: [ 30 ] } ]\n'
        'output [ { name: "predictions" data_type: TYPE_FP32 dims: [ 3 ] } ]\n'
    )
    (model_dir / "config.pbtxt").write_text(pinned, encoding="utf-8")
    with pytest.raises(ModelRepositoryError, match="'features' is not a column.*Remove the"):
        export_version(MODEL_NAME, 2, holdout, tmp_path / "repo")
    assert (model_dir / "config.pbtxt").read_text(encoding="utf-8") == pinned
    assert sorted(p.name for p in model_dir.iterdir()) == ["config.pbtxt"]


def test_module_without_preprocessing_is_refused(holdout, tmp_path):
    with pytest.raises(ModelContractError, match="carries no preprocessing"):
        export_module(torch.nn.Linear(6, 3), "old_model", 1, holdout, tmp_path / "repo")
    assert not (tmp_path / "repo").exists()


def test_signature_treats_empty_class_labels_as_none():
    regression = tiny_model(seed=0, task="regression")
    model = LoadedModel(
        name="reg",
        version=1,
        module=regression,
        feature_columns=tuple(regression.feature_columns),
        task="regression",
        class_labels=(),
    )
    signature = signature_of(model, n_outputs=1)
    assert signature.class_labels is None
    assert signature.datatypes == WIRE_TYPES
    classifier = tiny_model(seed=0)
    with pytest.raises(ModelContractError, match="2 class_labels but the model outputs 3"):
        signature_of(
            LoadedModel("clf", 1, classifier, model.feature_columns, "classification", ("x", "y")),
            3,
        )


def test_regression_model_exports(tracking_uri, holdout, tmp_path):
    module = tiny_model(seed=0, task="regression")
    assert module.class_labels == []
    version = register(module, name="tabular_reg")
    MlflowClient().set_registered_model_alias("tabular_reg", "champion", str(version))
    summary = export_version("tabular_reg", version, holdout, tmp_path / "repo")
    assert (summary.n_features, summary.n_outputs) == (6, 1)
    contract = repository_contract(tmp_path / "repo", "tabular_reg")
    assert (contract.task, contract.class_labels) == ("regression", None)
    onnx_file = tmp_path / "repo" / "tabular_reg" / str(version) / "model.onnx"
    rows = awkward_rows()
    np.testing.assert_allclose(
        onnx_predict(onnx_file, module.preprocessor.wire(rows)),
        module.predict_frame(rows),
        atol=ATOL,
        rtol=RTOL,
    )


def test_a_model_with_other_tensors_replaces_the_declaration_and_older_versions(holdout, tmp_path):
    repo = tmp_path / "repo"
    export_module(tiny_model(seed=0), "m", 1, holdout, repo)
    second = export_module(tiny_model(seed=1), "m", 2, holdout, repo)
    assert second.removed_versions == [], "same inputs and outputs: v1 stays for rollback"
    config = repo / "m" / "config.pbtxt"
    outside = config.read_text().split("# >>>")[0]
    # Another output width (a schema or task change): v1 and v2 cannot load under the new
    # declaration, so they go; the team's part of the config is untouched.
    third = export_module(tiny_model(seed=2, task="regression"), "m", 3, holdout, repo)
    assert third.removed_versions == [1, 2]
    assert sorted(p.name for p in (repo / "m").iterdir() if p.name.isdigit()) == ["3"]
    assert [list(t.dims) for t in read_config(config).output] == [[1]]
    assert config.read_text().split("# >>>")[0] == outside
