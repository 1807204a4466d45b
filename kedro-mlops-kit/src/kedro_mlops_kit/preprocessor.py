"""Preprocessing state fitted on the training split and shared by training and serving."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kedro_mlops_kit.tasks import CLASSIFICATION, check_task


@dataclass(frozen=True)
class Preprocessor:
    """Everything needed to turn raw feature values into model inputs, and back for targets.

    Attributes:
        task: ``classification`` or ``regression``.
        target: Name of the target column.
        feature_columns: Model input columns, in the order the served model expects them.
        categorical_columns: Integer-coded columns that are one-hot encoded.
        means: Training mean of each numeric column.
        stds: Training standard deviation of each numeric column (never 0).
        categories: Sorted category codes seen in training, per categorical column.
        class_labels: Sorted target labels (classification only); output ``i`` is label ``i``.
        target_mean: Training target mean (regression only); the MLP learns a scaled target.
        target_std: Training target standard deviation (regression only).
    """

    task: str
    target: str
    feature_columns: list[str]
    categorical_columns: list[str] = field(default_factory=list)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[float]] = field(default_factory=dict)
    class_labels: list[Any] = field(default_factory=list)
    target_mean: float | None = None
    target_std: float | None = None

    def __post_init__(self) -> None:
        """Reject an unknown task early, before any tensor is built from this state."""
        check_task(self.task)

    @property
    def numeric_columns(self) -> list[str]:
        """Feature columns that are standardised, in feature order."""
        return [c for c in self.feature_columns if c not in self.categorical_columns]

    @property
    def n_outputs(self) -> int:
        """Width of the network output: one per class, or a single regression value."""
        return len(self.class_labels) if self.task == CLASSIFICATION else 1

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (the persisted artifact format)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        """Rebuild a ``Preprocessor`` from :meth:`to_dict` output."""
        return cls(**data)
