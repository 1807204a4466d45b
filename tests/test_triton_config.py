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
    # Nothing derived from a model yet: `make export` declares the served inputs and output in
    # the marked block (the plugin's tests check what it writes), the rest is the team's.
    assert not config.input
    assert not config.output
    assert not config.parameters
    text = (
        project / "serving" / "model_repository" / answers["model_name"] / config_file
    ).read_text()
    assert text.endswith(
        "# >>> inputs and outputs of the served model: `make export` writes this block\n"
        "# <<< end of inputs and outputs\n"
    )


def test_instance_kind_follows_accelerator(rendered):
    answers, project = rendered
    folder = project / "serving" / "model_repository" / answers["model_name"]
    production = parse(folder / "config.pbtxt").instance_group[0].kind
    expected = "KIND_GPU" if answers["accelerator"] == "cuda" else "KIND_CPU"
    assert KINDS.Name(production) == expected
    assert KINDS.Name(parse(folder / "configs" / "cpu.pbtxt").instance_group[0].kind) == "KIND_CPU"
