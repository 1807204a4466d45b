"""Train the project's network: the one call the project's training node makes.

The project owns the architecture (``model.build_model``); this module owns everything around
it: seeding, determinism, the device, data parallelism under ``torchrun``, the loop, early
stopping and the serving head.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch
from torch import nn

from kedro_mlops_kit import distributed
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.schema import DataValidationError
from kedro_mlops_kit.serving_model import ServingModule
from kedro_mlops_kit.table import Table
from kedro_mlops_kit.tasks import CLASSIFICATION
from kedro_mlops_kit.training.device import resolve_device
from kedro_mlops_kit.training.trainer import CHUNK_ROWS, LoopSettings, TrainingData, train_loop

logger = logging.getLogger(__name__)

#: The project's factory: fitted preprocessing + ``params:training`` -> the network.
ModelFactory = Callable[[Preprocessor, dict[str, Any]], nn.Module]


def _encoded(frame: pd.DataFrame, preprocessor: Preprocessor) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(preprocessor.transform(frame))
    y = torch.from_numpy(preprocessor.encode_target(frame[preprocessor.target]))
    return x, (y if preprocessor.task == CLASSIFICATION else y.unsqueeze(1))


def to_training_data(
    frame: pd.DataFrame | Table, preprocessor: Preprocessor, chunk_rows: int = CHUNK_ROWS
) -> TrainingData:
    """Encode a split into network inputs and targets: at once, or chunk by chunk when large.

    A split of more than ``chunk_rows`` rows keeps its raw rows (on disk, for a
    :class:`~kedro_mlops_kit.table.Table`) and is encoded a chunk at a time whenever the loop
    reads it, so memory holds one encoded chunk, not the whole split or its one-hot matrix.
    """
    if len(frame) == 0:
        raise DataValidationError(
            "A split has no rows: add rows, or change data_processing.split so that train and "
            "validation both get some."
        )
    if len(frame) <= chunk_rows:
        if isinstance(frame, Table):
            frame = frame.to_pandas()
        x, y = _encoded(frame, preprocessor)
        return TrainingData(x=x, y=y)
    # Every chunk's targets are checked now: an unseen label must fail before training starts.
    preprocessor.encode_target(frame[preprocessor.target])
    return TrainingData(
        frame=frame,
        encode=lambda chunk: _encoded(chunk, preprocessor),
        chunk_rows=chunk_rows,
    )


def train(
    build_model: ModelFactory,
    train_set: pd.DataFrame | Table,
    validation_set: pd.DataFrame | Table,
    preprocessor: Preprocessor,
    params: dict[str, Any],
) -> tuple[ServingModule, list[dict[str, float]]]:
    """Build the network with ``build_model``, train it reproducibly, return it with its history.

    Under ``torchrun`` (``make train NPROC=2``) every process trains on its share of each
    mini-batch and gradients are averaged across processes.

    Args:
        build_model: The project's factory (``model.build_model``).
        train_set: Training split (features + target): a DataFrame, or a Table read a chunk at
            a time.
        validation_set: Validation split used for early stopping.
        preprocessor: The preprocessing fitted on the training split.
        params: The ``training`` parameters: ``device``, ``epochs``, ``batch_size``,
            ``learning_rate``, ``weight_decay``, ``patience``, ``seed`` and whatever the
            factory reads.

    Returns:
        The trained :class:`ServingModule` on CPU in eval mode, and one history record per epoch.
    """
    state = preprocessor
    device = distributed.local_device(resolve_device(params["device"]))
    settings = LoopSettings(
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        learning_rate=params["learning_rate"],
        weight_decay=params["weight_decay"],
        patience=params["patience"],
        seed=params["seed"],
    )
    logger.info(
        "Training on %s (task=%s, %d process(es)).", device, state.task, distributed.world_size()
    )
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    # warn_only: a few CUDA kernels have no deterministic variant; better a warning than a crash.
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        # Seed before building: weight initialisation draws from this RNG (and every process of
        # a data-parallel run starts from the same weights).
        torch.manual_seed(settings.seed)
        model = ServingModule(build_model(state, params), state)
        with distributed.process_group(device):
            history = train_loop(
                model,
                to_training_data(train_set, state, CHUNK_ROWS),
                to_training_data(validation_set, state, CHUNK_ROWS),
                settings,
                device,
            )
    finally:
        # Do not leak a global torch setting into the rest of the process (e.g. tests).
        torch.use_deterministic_algorithms(was_deterministic)
    return model, history
