"""Data-parallel training: sharding, rank-0-only writes, and two processes matching one."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from kedro_mlops_kit import distributed
from kedro_mlops_kit.hooks import DistributedTrainingError, RankZeroWrites
from tests.helpers import train_tiny

# The directory holding the ``tests`` package, so torchrun's processes can import its helpers.
ROOT = Path(__file__).resolve().parents[2]

# Run by each torchrun process: train() with the default factory on the tiny table; rank 0 saves.
TRAIN_SCRIPT = """
import sys
import torch
from kedro_mlops_kit import distributed
from tests.helpers import train_tiny

model, history = train_tiny(epochs=10, patience=100)
if distributed.is_rank_zero():
    torch.save({"weights": model.state_dict(), "history": history}, sys.argv[1])
"""


def _as_process(monkeypatch, rank: int, world: int) -> None:
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("WORLD_SIZE", str(world))


def test_one_process_takes_whole_batches(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    batch = torch.arange(10)
    assert torch.equal(distributed.shard(batch), batch)
    assert distributed.sum_across_processes(1.0, 2.0) == [1.0, 2.0]
    assert distributed.from_rank_zero(3.0) == 3.0
    assert distributed.is_rank_zero()
    assert not distributed.is_distributed()


def test_every_row_goes_to_exactly_one_process(monkeypatch):
    batch = torch.randperm(11)
    shares = []
    for rank in range(2):
        _as_process(monkeypatch, rank, 2)
        shares.append(distributed.shard(batch))
    assert sorted(torch.cat(shares).tolist()) == list(range(11))
    assert abs(len(shares[0]) - len(shares[1])) <= 1


def test_only_cuda_devices_are_pinned_to_the_local_rank(monkeypatch):
    _as_process(monkeypatch, 1, 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert distributed.local_device(torch.device("cpu")) == torch.device("cpu")
    assert distributed.local_device(torch.device("cuda")) == torch.device("cuda", 1)
    monkeypatch.delenv("WORLD_SIZE")
    assert distributed.local_device(torch.device("cuda")) == torch.device("cuda")


def _training_run() -> tuple[Pipeline, DataCatalog]:
    pipeline = Pipeline([Node(lambda x: x, "train_set", "model", name="train")])
    return pipeline, DataCatalog({"train_set": MemoryDataset(1), "model": _FileLike()})


class _FileLike(MemoryDataset):
    """Stands for a dataset that writes a file."""


def test_only_rank_zero_writes_outputs(monkeypatch):
    pipeline, catalog = _training_run()
    _as_process(monkeypatch, 1, 2)
    RankZeroWrites().before_pipeline_run({"pipeline_names": ["training"]}, pipeline, catalog)
    assert type(catalog["model"]) is MemoryDataset
    assert type(catalog["train_set"]) is MemoryDataset, "inputs are left alone"
    assert catalog["train_set"].load() == 1


def test_rank_zero_and_single_processes_keep_their_datasets(monkeypatch):
    for rank, world in ((0, 2), (0, 1)):
        pipeline, catalog = _training_run()
        _as_process(monkeypatch, rank, world)
        RankZeroWrites().before_pipeline_run({"pipeline_names": ["training"]}, pipeline, catalog)
        assert isinstance(catalog["model"], _FileLike)


@pytest.mark.parametrize("names", [["evaluation"], None, ["training", "export"]])
def test_other_pipelines_are_refused_on_several_processes(monkeypatch, names):
    pipeline, catalog = _training_run()
    _as_process(monkeypatch, 0, 2)
    expected = "__default__" if names is None else sorted(set(names))[0]
    with pytest.raises(DistributedTrainingError, match=expected):
        RankZeroWrites().before_pipeline_run({"pipeline_names": names}, pipeline, catalog)


def _train_on_two_processes(tmp_path) -> dict:
    script = tmp_path / "train_tiny.py"
    script.write_text(textwrap.dedent(TRAIN_SCRIPT))
    output = tmp_path / "weights.pt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(name, None)
    torchrun = Path(sys.executable).with_name("torchrun")
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc-per-node=2", str(script), str(output)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return torch.load(output)


def test_two_processes_train_like_one(monkeypatch, tmp_path):
    """Without dropout and with equal shards, averaged gradients equal the full batch's."""
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    model, history = train_tiny(epochs=10, patience=100)
    two = _train_on_two_processes(tmp_path)
    assert [h["processes"] for h in two["history"]] == [2] * len(history)
    assert [h["epoch"] for h in two["history"]] == [h["epoch"] for h in history]
    for one, both in zip(history, two["history"], strict=True):
        assert both["train_loss"] == pytest.approx(one["train_loss"], rel=1e-4)
        assert both["val_loss"] == pytest.approx(one["val_loss"], rel=1e-4)
    for name, weights in model.state_dict().items():
        torch.testing.assert_close(two["weights"][name], weights, atol=1e-4, rtol=1e-4)
