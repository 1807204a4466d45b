"""Preprocessing fitted on the training split and shared by training, export, serving and drift."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from kedro_mlops_kit.features import (
    WIRE_DATATYPES,
    build_transformer,
    category_lists,
    feature_names,
    to_wire,
    transform,
)
from kedro_mlops_kit.schema import CATEGORICAL, DataValidationError, TableSchema
from kedro_mlops_kit.table import Table, sample_rows
from kedro_mlops_kit.tasks import CLASSIFICATION, REGRESSION, check_task

logger = logging.getLogger(__name__)


@dataclass
class Preprocessor:
    """Everything needed to turn raw rows into network inputs, and network outputs into answers.

    Attributes:
        task: ``classification`` or ``regression``.
        schema: The table schema the model was trained with (it travels with the model).
        transformer: The fitted scikit-learn ``ColumnTransformer``
            (see :mod:`kedro_mlops_kit.features`).
        feature_names: Name of each column of the transformed matrix (``n_inputs`` of them).
        class_labels: Sorted target labels (classification only); output ``i`` is label ``i``.
        target_mean: Training target mean (regression only); the network learns a scaled target.
        target_std: Training target standard deviation (regression only).
    """

    task: str
    schema: TableSchema
    transformer: ColumnTransformer
    feature_names: list[str]
    class_labels: list[Any] = field(default_factory=list)
    target_mean: float | None = None
    target_std: float | None = None

    def __post_init__(self) -> None:
        """Reject an unknown task early, before any tensor is built from this state."""
        check_task(self.task)

    @property
    def target(self) -> str:
        """Name of the target column."""
        return self.schema.target

    @property
    def feature_columns(self) -> list[str]:
        """Raw columns the model reads (one served input each), in schema order."""
        return self.schema.feature_columns

    @property
    def kinds(self) -> dict[str, str]:
        """Kind of each feature column."""
        return {c: self.schema.kinds[c] for c in self.feature_columns}

    @property
    def categorical_columns(self) -> list[str]:
        """Categorical feature columns."""
        return self.schema.columns_of(CATEGORICAL)

    @property
    def categories(self) -> dict[str, list[str]]:
        """Categories with their own one-hot column, per categorical column."""
        return category_lists(self.transformer)

    @property
    def n_inputs(self) -> int:
        """Width of the transformed matrix: the network's input width."""
        return len(self.feature_names)

    @property
    def n_outputs(self) -> int:
        """Width of the network output: one per class, or a single regression value."""
        return len(self.class_labels) if self.task == CLASSIFICATION else 1

    @property
    def input_datatypes(self) -> dict[str, str]:
        """Triton data type of each served input (one per feature column)."""
        return {c: WIRE_DATATYPES[kind] for c, kind in self.kinds.items()}

    def wire(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Return the served model's inputs for ``frame``: one ``[n, 1]`` array per column."""
        return to_wire(frame, self.kinds)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode raw rows into the ``[n, n_inputs]`` float32 matrix the network reads."""
        return transform(self.transformer, frame, self.kinds)

    def encode_target(self, target: pd.Series) -> np.ndarray:
        """Class indices (classification) or the standardised target (regression)."""
        if self.task == CLASSIFICATION:
            index = {label: i for i, label in enumerate(self.class_labels)}
            unknown = set(target.unique()) - set(index)
            if unknown:
                raise DataValidationError(
                    f"Target labels {sorted(unknown, key=str)} were not seen in the training "
                    "split; use a stratified split or more data."
                )
            return target.map(index).to_numpy(dtype=np.int64)
        values = target.to_numpy(dtype=np.float32)
        return ((values - self.target_mean) / self.target_std).astype(np.float32)


def _class_labels(target: pd.Series) -> list[Any]:
    # Plain Python scalars keep the model attributes and the contract portable.
    return sorted(v.item() if hasattr(v, "item") else v for v in target.unique())


def _safe_std(values: pd.Series) -> float:
    std = float(values.std(ddof=0))
    return std if std > 0 else 1.0


#: Rows the feature transformer is fitted on at most (``data_processing.features.fit_rows``).
FIT_ROWS = 1_000_000


def fit_preprocessor(
    train: pd.DataFrame | Table, schema: TableSchema, params: dict[str, Any]
) -> Preprocessor:
    """Fit the feature transformer and the target encoding on the training split only.

    The transformer (medians, scales, kept categories) is fitted on at most
    ``features.fit_rows`` rows (default 1,000,000) drawn at random from a larger split; the
    target's classes, mean and spread always come from every row.

    Args:
        train: Training split (validated raw columns): a DataFrame or a Table.
        schema: The table schema.
        params: The ``data_processing`` parameters (``task``; ``features`` options).
    """
    task = check_task(params["task"])
    features = params.get("features") or {}
    target = train[schema.target]
    sample = sample_rows(train, int(features.get("fit_rows", FIT_ROWS)), seed=0)
    transformer = build_transformer(sample, schema, features)
    del sample
    preprocessor = Preprocessor(
        task=task,
        schema=schema,
        transformer=transformer,
        feature_names=feature_names(transformer),
        class_labels=_class_labels(target) if task == CLASSIFICATION else [],
        target_mean=float(target.mean()) if task == REGRESSION else None,
        target_std=_safe_std(target) if task == REGRESSION else None,
    )
    logger.info(
        "Preprocessing: %d raw feature columns -> %d network inputs.",
        len(preprocessor.feature_columns),
        preprocessor.n_inputs,
    )
    return preprocessor
