"""Seeded mini-batch training loop with early stopping and per-epoch history."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from kedro_mlops_kit import distributed
from kedro_mlops_kit.serving_model import ServingModule
from kedro_mlops_kit.table import Table
from kedro_mlops_kit.tasks import CLASSIFICATION, REGRESSION
from kedro_mlops_kit.training.device import autocast, grad_scaler
from kedro_mlops_kit.training.early_stopping import EarlyStopping
from kedro_mlops_kit.training.progress import epoch_progress

logger = logging.getLogger(__name__)

# Name of the ``val_metric`` history field per task (what _validation_metric computes).
VALIDATION_METRIC = {CLASSIFICATION: "accuracy", REGRESSION: "rmse"}


# Splits larger than this are encoded chunk by chunk, each time they are read, instead of once
# in full: the preprocessed matrix of a large table (one-hot columns included) would not fit.
CHUNK_ROWS = 262_144


@dataclass(frozen=True)
class TrainingData:
    """One split as network inputs and encoded targets, whole or encoded chunk by chunk.

    Whole: ``x`` (preprocessed inputs) and ``y`` (class indices, long, for classification; the
    standardised target, float ``[n, 1]``, for regression). Chunked (large splits): ``frame``
    holds the raw rows (a :class:`~kedro_mlops_kit.table.Table` on disk, or a DataFrame) and
    ``encode`` turns a chunk of it into ``(x, y)`` when it is read.
    """

    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    frame: Any = None
    encode: Callable[[Any], tuple[torch.Tensor, torch.Tensor]] | None = None
    chunk_rows: int = CHUNK_ROWS

    def __len__(self) -> int:
        """Return the number of rows."""
        return len(self.x) if self.x is not None else len(self.frame)

    def chunks(
        self, rng: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(x, y)`` chunks on the host: the whole split, or encoded slices of it.

        With ``rng``, slices come in a random order (rows are shuffled within each by the loop).
        """
        if self.x is not None:
            yield self.x, self.y
            return
        if isinstance(self.frame, Table):
            yield from self._table_chunks(rng)
            return
        starts = list(range(0, len(self.frame), self.chunk_rows))
        order = torch.randperm(len(starts), generator=rng).tolist() if rng else range(len(starts))
        for index in order:
            start = starts[index]
            yield self.encode(self.frame.iloc[start : start + self.chunk_rows])

    def _table_chunks(
        self, rng: torch.Generator | None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        # A Parquet split is read one row group at a time (in a random order when shuffling);
        # a table readable only in order (CSV) is read in order.
        table: Table = self.frame
        count = table.num_chunks
        if count is None:
            parts = (part for part in table.chunks())
        else:
            order = torch.randperm(count, generator=rng).tolist() if rng else range(count)
            parts = (table.chunk(index) for index in order)
        for part in parts:
            if len(part):
                yield self.encode(part)


@dataclass(frozen=True)
class LoopSettings:
    """Hyper-parameters of the loop (a typed view of ``params:training``)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    patience: int
    seed: int


def _loss_fn(task: str) -> nn.Module:
    return nn.CrossEntropyLoss() if task == CLASSIFICATION else nn.MSELoss()


def _validation_metric(model: ServingModule, scores: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy for classification; RMSE in target units for regression."""
    if model.task == CLASSIFICATION:
        return float((scores.argmax(dim=1) == y).float().mean())
    return float(((scores - y) * model.target_std).pow(2).mean().sqrt())


def _chunked_scores(
    model: ServingModule, x: torch.Tensor, device: torch.device, chunk: int = 65_536
) -> torch.Tensor:
    """Raw scores of ``x`` computed ``chunk`` rows at a time on ``device``, returned on the host."""
    parts = [
        model.scores(x[i : i + chunk].to(device)).float().cpu() for i in range(0, len(x), chunk)
    ]
    return torch.cat(parts) if parts else torch.zeros(0, 1)


def train_loop(
    model: ServingModule,
    train: TrainingData,
    validation: TrainingData,
    settings: LoopSettings,
    device: torch.device,
) -> list[dict[str, float]]:
    """Train ``model`` in place and restore its best-validation-loss weights.

    Returns:
        One record per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_metric`` and
        ``processes`` (how many data-parallel processes trained it).
    """
    model.to(device)
    # The splits stay in host memory (large ones raw, encoded chunk by chunk); each mini-batch
    # and validation chunk goes to the device on its own, so device memory does not grow with
    # the table.

    loss_fn = _loss_fn(model.task)
    # Under torchrun the network is wrapped so that backward() averages gradients across
    # processes; the wrapper shares the module's parameters, so ``model`` stays the one to keep.
    network: nn.Module = model.network
    if distributed.is_distributed():
        network = DistributedDataParallel(
            model.network, device_ids=[device.index] if device.type == "cuda" else None
        )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    scaler = grad_scaler(device)
    stopper = EarlyStopping(patience=settings.patience)
    # A dedicated generator makes the shuffling order independent of any other RNG use.
    shuffle_rng = torch.Generator().manual_seed(settings.seed)
    history: list[dict[str, float]] = []

    with epoch_progress() as progress:
        bar = progress.add_task("epochs", total=settings.epochs, status="")
        for epoch in range(1, settings.epochs + 1):
            model.train()
            total, seen = 0.0, 0
            for f_train, y_train in train.chunks(shuffle_rng):
                order = torch.randperm(f_train.shape[0], generator=shuffle_rng)
                for batch in order.split(settings.batch_size):
                    if len(batch) < distributed.world_size():
                        # A last batch too small to give every process a row is skipped by all.
                        continue
                    rows = distributed.shard(batch)
                    optimizer.zero_grad(set_to_none=True)
                    x, y = f_train[rows].to(device), y_train[rows].to(device)
                    with autocast(device):
                        loss = loss_fn(network(x).float(), y)
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                    total += float(loss.detach()) * len(rows)
                    seen += len(rows)
            total, seen = distributed.sum_across_processes(total, seen)

            model.eval()
            with torch.no_grad(), autocast(device):
                scores, targets = [], []
                for f_val, y_part in validation.chunks():
                    scores.append(_chunked_scores(model, f_val, device))
                    targets.append(y_part)
                val_scores, y_val = torch.cat(scores), torch.cat(targets)
                # Every process holds the same weights; rank 0's loss decides early stopping
                # for all, so no process can stop alone.
                val_loss = distributed.from_rank_zero(float(loss_fn(val_scores, y_val)))
            record = {
                "epoch": epoch,
                "train_loss": total / seen,
                "val_loss": val_loss,
                "val_metric": _validation_metric(model, val_scores, y_val),
                "processes": distributed.world_size(),
            }
            history.append(record)
            progress.update(
                bar,
                advance=1,
                status=f"train {record['train_loss']:.4f} val {val_loss:.4f}",
            )
            if stopper.update(epoch, val_loss, model):
                logger.info(
                    "Early stopping at epoch %d (best val_loss %.4f at epoch %d).",
                    epoch,
                    stopper.best_loss,
                    stopper.best_epoch,
                )
                break

    stopper.restore_best(model)
    model.to("cpu").eval()
    return history
