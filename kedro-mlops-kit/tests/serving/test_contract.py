import json

import pytest

from kedro_mlops_kit.serving.contract import (
    CONTRACT_KEY,
    ModelSignature,
    read_contract,
    repository_contract,
    write_contract,
)
from kedro_mlops_kit.serving.errors import ModelRepositoryError
from kedro_mlops_kit.serving.predict import parse_feature_columns, predictions_frame

AWKWARD = ModelSignature(
    n_features=3,
    n_outputs=2,
    feature_columns=("a,b", "café", 'quote"d'),
    task="classification",
    class_labels=("a,b", "café"),
)


def _tiny_onnx(path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["features"], ["predictions"])],
        "g",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, ["batch", 2])],
    )
    onnx.save(helper.make_model(graph), str(path))


def test_json_round_trip_keeps_commas_quotes_and_non_ascii():
    text = AWKWARD.to_json()
    assert "café" in text  # stored as UTF-8, not \\u escapes
    assert json.loads(text)["class_labels"] == ["a,b", "café"]
    assert ModelSignature.from_json(text) == AWKWARD


def test_contract_lives_in_the_onnx_file(tmp_path):
    version_dir = tmp_path / "repo" / "m" / "3"
    version_dir.mkdir(parents=True)
    _tiny_onnx(version_dir / "model.onnx")
    write_contract(version_dir / "model.onnx", AWKWARD)
    write_contract(version_dir / "model.onnx", AWKWARD)  # replaces, never duplicates
    import onnx

    keys = [p.key for p in onnx.load(str(version_dir / "model.onnx")).metadata_props]
    assert keys == [CONTRACT_KEY]
    assert read_contract(version_dir / "model.onnx") == AWKWARD
    assert repository_contract(tmp_path / "repo", "m") == AWKWARD
    assert repository_contract(tmp_path / "repo", "m", "3") == AWKWARD


def test_missing_contract_says_how_to_fix(tmp_path):
    _tiny_onnx(tmp_path / "model.onnx")
    with pytest.raises(ModelRepositoryError, match="kedro serving export"):
        read_contract(tmp_path / "model.onnx")
    with pytest.raises(ModelRepositoryError, match="kedro serving export"):
        repository_contract(tmp_path / "empty", "m")


def test_regression_contract_has_no_labels():
    regression = ModelSignature(2, 1, ("x", "y"), "regression", None)
    assert ModelSignature.from_json(regression.to_json()).class_labels is None


def test_predictions_are_named_by_label():
    import numpy as np

    frame = predictions_frame(np.array([[0.2, 0.8], [0.9, 0.1]], np.float32), AWKWARD.class_labels)
    assert list(frame.columns) == ["p_a,b", "p_café", "label"]
    assert list(frame["label"]) == ["café", "a,b"]


def test_feature_columns_accept_json_for_names_with_commas():
    assert parse_feature_columns('["a,b", "café"]') == ["a,b", "café"]
    assert parse_feature_columns("x, y,z") == ["x", "y", "z"]
