from pathlib import Path

import pytest
from tritonclient.grpc import model_config_pb2 as mc

from kedro_mlops_kit.serving.errors import ModelRepositoryError
from kedro_mlops_kit.serving.model_config import (
    IO_BEGIN,
    IO_END,
    ModelSignature,
    config_paths,
    declare_io,
    ensure_configs,
    io_declaration,
    read_config,
    write_config,
)

# One served input per raw column, named by it, in its wire type.
SIG = ModelSignature(
    feature_columns=("a, b", "café", "n", 'q"d'),
    datatypes={"a, b": "FP32", "café": "BYTES", "n": "FP64", 'q"d': "BOOL"},
    n_outputs=3,
    task="classification",
    class_labels=("x", "y", "z"),
)

USER_EDITED = """\
# The team's config: comments and layout are theirs.
name: "tabular_mlp"
backend: "onnxruntime"
max_batch_size: 64
version_policy { latest { num_versions: 2 } }
instance_group [ { count: 3 kind: KIND_GPU gpus: [ 0 ] } ]
dynamic_batching { preferred_batch_size: [ 8, 16 ] max_queue_delay_microseconds: 500 }
parameters { key: "owner" value { string_value: "team-ml" } }
"""
# Inputs and output declared by hand, exactly as the model has them.
PINNED = (
    "input [\n"
    '  { name: "a, b" data_type: TYPE_FP32 dims: [ 1 ] },\n'
    '  { name: "café" data_type: TYPE_STRING dims: [ 1 ] },\n'
    '  { name: "n" data_type: TYPE_FP64 dims: [ 1 ] },\n'
    '  { name: "q\\"d" data_type: TYPE_BOOL dims: [ 1 ] }\n'
    "]\n"
    'output [ { name: "predictions" data_type: TYPE_FP32 dims: [ 3 ] } ]\n'
)
# What v0.2 projects committed: one FP32 matrix.
V02_PINNED = (
    'input [ { name: "features" data_type: TYPE_FP32 dims: [ 4 ] } ]\n'
    'output [ { name: "predictions" data_type: TYPE_FP32 dims: [ 3 ] } ]\n'
)


def test_new_model_dir_gets_production_and_cpu_configs(tmp_path: Path):
    written = ensure_configs(tmp_path / "tabular_mlp", "tabular_mlp", SIG)
    assert [p.name for p in written] == ["config.pbtxt", "cpu.pbtxt"]
    prod, cpu = (read_config(p) for p in written)
    assert prod.name == "tabular_mlp"
    assert prod.backend == "onnxruntime"
    assert prod.max_batch_size == 256
    assert prod.version_policy.latest.num_versions == 2
    assert prod.HasField("dynamic_batching")
    assert [g.kind for g in prod.instance_group] == [mc.ModelInstanceGroup.KIND_GPU]
    assert [g.kind for g in cpu.instance_group] == [mc.ModelInstanceGroup.KIND_CPU]
    for config, path in zip((prod, cpu), written, strict=True):
        # Empty until the version is installed: then export declares its inputs in the block.
        assert not config.input
        assert not config.output
        assert not config.parameters
        assert path.read_text().endswith(f"{IO_BEGIN}\n{IO_END}\n")
    assert written[0].read_text().startswith("# Triton config of tabular_mlp")


def test_the_marked_block_declares_one_input_per_raw_column(tmp_path: Path):
    path = tmp_path / "config.pbtxt"
    path.write_text(USER_EDITED + f"{IO_BEGIN}\n{IO_END}\n# after\n")
    assert declare_io(path, SIG) is True
    config = read_config(path)
    assert [(t.name, mc.DataType.Name(t.data_type), list(t.dims)) for t in config.input] == [
        ("a, b", "TYPE_FP32", [1]),
        ("café", "TYPE_STRING", [1]),
        ("n", "TYPE_FP64", [1]),
        ('q"d', "TYPE_BOOL", [1]),
    ]
    assert [(t.name, list(t.dims)) for t in config.output] == [("predictions", [3])]
    text = path.read_text()
    assert text.startswith(USER_EDITED) and text.endswith(f"{IO_END}\n# after\n")
    assert declare_io(path, SIG) is False, "nothing to change the second time"
    # Another model: the block is replaced, the rest untouched; checks ignore the old block.
    other = ModelSignature(("n",), {"n": "FP32"}, 2, "classification", ("x", "y"))
    ensure_configs(tmp_path, "tabular_mlp", other)
    assert declare_io(path, other) is True
    assert [t.name for t in read_config(path).input] == ["n"]
    assert path.read_text().startswith(USER_EDITED)
    assert io_declaration(other) in path.read_text()


def test_a_config_without_markers_is_left_to_auto_complete(tmp_path: Path):
    path = tmp_path / "config.pbtxt"
    path.write_text(USER_EDITED)
    assert declare_io(path, SIG) is False
    assert path.read_text() == USER_EDITED


def test_existing_configs_are_never_rewritten(tmp_path: Path):
    model_dir = tmp_path / "tabular_mlp"
    (model_dir / "configs").mkdir(parents=True)
    (model_dir / "config.pbtxt").write_text(USER_EDITED)
    (model_dir / "configs" / "cpu.pbtxt").write_text(
        USER_EDITED.replace("KIND_GPU gpus: [ 0 ]", "KIND_CPU") + PINNED
    )
    before = {p: p.read_bytes() for p in config_paths(model_dir)}
    assert ensure_configs(model_dir, "tabular_mlp", SIG) == list(before)
    assert {p: p.read_bytes() for p in before} == before


def test_missing_cpu_variant_is_created_from_production(tmp_path: Path):
    model_dir = tmp_path / "tabular_mlp"
    model_dir.mkdir()
    (model_dir / "config.pbtxt").write_text(USER_EDITED)
    ensure_configs(model_dir, "tabular_mlp", SIG)
    cpu = read_config(model_dir / "configs" / "cpu.pbtxt")
    assert [(g.count, g.kind, list(g.gpus)) for g in cpu.instance_group] == [
        (3, mc.ModelInstanceGroup.KIND_CPU, [])
    ]
    assert cpu.parameters["owner"].string_value == "team-ml"
    assert (model_dir / "config.pbtxt").read_text() == USER_EDITED


@pytest.mark.parametrize(
    ("tensors", "match"),
    [
        (PINNED.replace("[ 3 ]", "[ 7 ]"), r"'predictions' is declared as TYPE_FP32 \[7\]"),
        (PINNED.replace("[ 3 ]", "[ -1 ]"), r"'predictions' is declared as TYPE_FP32 \[-1\]"),
        (
            PINNED.replace("TYPE_FP64", "TYPE_FP32"),
            r"'n' is TYPE_FP32 \[1\], the model takes TYPE_FP64 \[1\]",
        ),
        (
            PINNED.replace(
                '"a, b" data_type: TYPE_FP32 dims: [ 1 ]', '"a, b" data_type: TYPE_FP32 dims: [ 2 ]'
            ),
            r"'a, b' is TYPE_FP32 \[2\]",
        ),
        (PINNED.replace('"café"', '"cafe"'), "'cafe' is not a column.*'café' is not declared"),
        (V02_PINNED, "'features' is not a column of the model"),
        (PINNED.replace('"predictions"', '"y"'), "but not 'predictions'"),
    ],
    ids=[
        "output-width",
        "output-variable-dim",
        "input-dtype",
        "input-dims",
        "input-name",
        "v0.2-features-matrix",
        "output-name",
    ],
)
def test_configs_that_cannot_serve_the_model_fail_before_writing(tmp_path, tensors, match):
    model_dir = tmp_path / "tabular_mlp"
    model_dir.mkdir()
    (model_dir / "config.pbtxt").write_text(USER_EDITED + tensors)
    with pytest.raises(ModelRepositoryError, match=match):
        ensure_configs(model_dir, "tabular_mlp", SIG)
    assert not (model_dir / "configs").exists()


def test_pinned_tensors_that_match_are_accepted(tmp_path: Path):
    model_dir = tmp_path / "tabular_mlp"
    model_dir.mkdir()
    (model_dir / "config.pbtxt").write_text(USER_EDITED + PINNED)
    ensure_configs(model_dir, "tabular_mlp", SIG)


def test_name_mismatch_is_rejected(tmp_path: Path):
    model_dir = tmp_path / "other"
    model_dir.mkdir()
    (model_dir / "config.pbtxt").write_text(USER_EDITED)
    with pytest.raises(ModelRepositoryError, match="does not match"):
        ensure_configs(model_dir, "other", SIG)


def test_invalid_pbtxt_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "config.pbtxt"
    path.write_text("max_batch_size: lots")
    with pytest.raises(ModelRepositoryError, match="Invalid Triton model config"):
        read_config(path)


def test_write_read_round_trip(tmp_path: Path):
    config = mc.ModelConfig(name="m", backend="onnxruntime", max_batch_size=8)
    write_config(config, tmp_path / "config.pbtxt", header="# hello\n")
    assert read_config(tmp_path / "config.pbtxt") == config
    assert not list(tmp_path.glob(".*.tmp"))
