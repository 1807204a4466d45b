"""Data-parallel facts and helpers for training under ``torchrun``.

``make train NPROC=2`` starts the training pipeline once per process through ``torchrun``, which
sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` for each of them. Without ``torchrun`` (or with
one process) every helper here degrades to plain single-process behaviour.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist

from kedro_mlops_kit.ranks import is_distributed, is_rank_zero, rank, world_size

__all__ = [
    "from_rank_zero",
    "is_distributed",
    "is_rank_zero",
    "local_device",
    "process_group",
    "rank",
    "shard",
    "sum_across_processes",
    "world_size",
]


def local_device(device: torch.device) -> torch.device:
    """Pin a CUDA device to this process's GPU (``LOCAL_RANK``); other devices are unchanged."""
    if device.type != "cuda" or not is_distributed():
        return device
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """Join the ``torchrun`` process group for the duration of training.

    NCCL talks GPU to GPU; gloo is PyTorch's CPU backend. A no-op for one process.
    """
    if not is_distributed() or dist.is_initialized():
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def shard(batch: torch.Tensor) -> torch.Tensor:
    """Return the part of a global mini-batch of row indices that this process trains on.

    Every process draws the same shuffled order, so splitting each global batch into
    ``world_size`` near-equal parts gives every row to exactly one process per epoch.
    """
    if not is_distributed():
        return batch
    return batch.tensor_split(world_size())[rank()]


def _scalars(values: tuple[float, ...]) -> torch.Tensor:
    """Scalars as a tensor on the device the process group's backend communicates from."""
    on_gpu = dist.get_backend() == "nccl"
    device = torch.device("cuda", torch.cuda.current_device()) if on_gpu else None
    return torch.tensor(values, dtype=torch.float64, device=device)


def sum_across_processes(*values: float) -> list[float]:
    """Sum scalars over all processes (identity for one process)."""
    if not is_distributed():
        return list(values)
    totals = _scalars(values)
    dist.all_reduce(totals, op=dist.ReduceOp.SUM)
    return totals.tolist()


def from_rank_zero(value: float) -> float:
    """Rank 0's value of a scalar on every process, so all processes take the same decisions."""
    if not is_distributed():
        return value
    shared = _scalars((value,))
    dist.broadcast(shared, src=0)
    return float(shared.item())
