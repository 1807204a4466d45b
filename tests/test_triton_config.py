"""Render tier: Triton configs parse as Triton's ModelConfig protobuf and fit the answers."""

from __future__ import annotations

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

KINDS = model_config_pb2.ModelInstanceGroup.Kind


def parse(path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


@pytest.mark.parametrize("config_file", ["config.pbtxt", "configs/cpu.pbtxt"])
def test_config_parses_as_model_config(rendered, config_file):
    answers, project = rendered
    config = parse(project / "serving" / "model_repository" / answers["model_name"] / config_file)
    assert config.name == answers["model_name"]
    assert config.backend == "onnxruntime"
    assert config.max_batch_size > 0
    assert config.HasField("dynamic_batching")
    assert config.version_policy.latest.num_versions == 2, "the previous version stays loaded"
    # Nothing derived from the model: Triton auto-completes the tensors from each version's
    # model.onnx and the feature names/labels travel inside it, so `make export` never has to
    # rewrite this committed, team-owned file.
    assert not config.input
    assert not config.output
    assert not config.parameters


def test_instance_kind_follows_accelerator(rendered):
    answers, project = rendered
    folder = project / "serving" / "model_repository" / answers["model_name"]
    production = parse(folder / "config.pbtxt").instance_group[0].kind
    expected = "KIND_GPU" if answers["accelerator"] == "cuda" else "KIND_CPU"
    assert KINDS.Name(production) == expected
    assert KINDS.Name(parse(folder / "configs" / "cpu.pbtxt").instance_group[0].kind) == "KIND_CPU"
