"""Nodes of the training pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.serving_model import ServingModule
from kedro_mlops_kit.table import Table
from kedro_mlops_kit.training.fit import train

from ...model import build_model


def train_model(
    train_set: Table | pd.DataFrame,
    validation_set: Table | pd.DataFrame,
    preprocessor: Preprocessor,
    params: dict[str, Any],
) -> tuple[ServingModule, list[dict[str, float]]]:
    """Train the network of ``model.build_model``; return it with its per-epoch history.

    The plugin runs the loop: seeding, device, mixed precision, early stopping, and data
    parallelism under ``torchrun`` (``make train NPROC=2``).

    Args:
        train_set: Training split (features + target), read a chunk at a time.
        validation_set: Validation split used for early stopping.
        preprocessor: The preprocessing fitted on the training split.
        params: The ``training`` parameters.

    Returns:
        The trained module on CPU in eval mode, and the history records.
    """
    return train(build_model, train_set, validation_set, preprocessor, params)
