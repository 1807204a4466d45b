"""The serving contract: JSON inside model.onnx, awkward names kept, schema carried along."""

import json

import numpy as np
import onnx
import pytest

from kedro_mlops_kit.serving.contract import (
    CONTRACT_KEY,
    ModelSignature,
    read_contract,
    repository_contract,
    write_contract,
)
from kedro_mlops_kit.serving.errors import ModelRepositoryError
from kedro_mlops_kit.serving.predict import predictions_frame

from .tiny_model import FEATURES, LABELS, WIRE_TYPES, raw_table, table_schema

SCHEMA = table_schema(raw_table(40))
AWKWARD = ModelSignature(
    feature_columns=tuple(FEATURES),
    datatypes=dict(WIRE_TYPES),
    n_outputs=3,
    task="classification",
    class_labels=tuple(LABELS),
    schema_yaml=SCHEMA.pandera.to_yaml(),
)


def _tiny_onnx(path):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["predictions"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, ["batch", 2])],
    )
    onnx.save(helper.make_model(graph), str(path))


def test_json_round_trip_keeps_commas_quotes_and_non_ascii():
    text = AWKWARD.to_json()
    assert "café" in text  # stored as UTF-8, not \\u escapes
    data = json.loads(text)
    assert data["contract_version"] == 2
    assert data["class_labels"] == LABELS
    assert [i["name"] for i in data["inputs"]] == FEATURES
    assert ModelSignature.from_json(text) == AWKWARD
    assert AWKWARD.n_features == len(FEATURES)


def test_contract_carries_the_schema_and_kinds():
    assert AWKWARD.schema().kinds == SCHEMA.kinds
    assert AWKWARD.kinds == {c: SCHEMA.kinds[c] for c in FEATURES}
    kinds = {"numeric", "integer", "categorical", "datetime", "boolean"}
    assert set(AWKWARD.kinds.values()) == kinds


def test_contract_lives_in_the_onnx_file(tmp_path):
    version_dir = tmp_path / "repo" / "m" / "3"
    version_dir.mkdir(parents=True)
    _tiny_onnx(version_dir / "model.onnx")
    write_contract(version_dir / "model.onnx", AWKWARD)
    write_contract(version_dir / "model.onnx", AWKWARD)  # replaces, never duplicates
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


def test_contract_of_an_older_export_asks_for_a_re_export():
    old = json.dumps({"contract_version": 1, "feature_columns": ["a"], "n_features": 1})
    with pytest.raises(ModelRepositoryError, match="re-export"):
        ModelSignature.from_json(old)
    with pytest.raises(ModelRepositoryError, match="malformed"):
        ModelSignature.from_json("{not json")


def test_regression_contract_has_no_labels():
    regression = ModelSignature(("x", "y"), {"x": "FP32", "y": "BYTES"}, 1, "regression", None)
    assert ModelSignature.from_json(regression.to_json()).class_labels is None


def test_predictions_are_named_by_label():
    probabilities = np.array([[0.2, 0.7, 0.1], [0.9, 0.05, 0.05]], np.float32)
    frame = predictions_frame(probabilities, AWKWARD.class_labels)
    assert list(frame.columns) == ["p_a,b", "p_café", "p_no", "label"]
    assert list(frame["label"]) == ["café", "a,b"]
    unlabelled = predictions_frame(probabilities, None)
    assert list(unlabelled.columns) == ["output_0", "output_1", "output_2"]
