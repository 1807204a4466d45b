"""The served model: raw feature values in, probabilities or target-unit predictions out.

Only torch is imported here so serving code (MLflow pyfunc, ONNX export) can load the module
without the Kedro stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .preprocessor import Preprocessor
from .tasks import CLASSIFICATION


class FeatureTransform(nn.Module):
    """Standardise numeric columns and one-hot encode integer-coded categorical columns.

    Fitted values live in buffers so they travel with ``state_dict`` and ONNX export.
    """

    def __init__(self, preprocessor: Preprocessor) -> None:
        """Build the buffers from a fitted :class:`Preprocessor`."""
        super().__init__()
        features = preprocessor.feature_columns
        numeric = preprocessor.numeric_columns
        self.register_buffer(
            "numeric_index", torch.tensor([features.index(c) for c in numeric], dtype=torch.long)
        )
        self.register_buffer(
            "mean", torch.tensor([preprocessor.means[c] for c in numeric], dtype=torch.float32)
        )
        self.register_buffer(
            "std", torch.tensor([preprocessor.stds[c] for c in numeric], dtype=torch.float32)
        )
        # One entry per (column, category): comparing the gathered column with the category
        # value yields the whole one-hot block in one vectorised, ONNX-friendly op.
        cat_index = [
            features.index(c)
            for c in preprocessor.categorical_columns
            for _ in preprocessor.categories[c]
        ]
        cat_values = [
            v for c in preprocessor.categorical_columns for v in preprocessor.categories[c]
        ]
        self.register_buffer("category_index", torch.tensor(cat_index, dtype=torch.long))
        self.register_buffer("category_value", torch.tensor(cat_values, dtype=torch.float32))
        self.n_outputs = len(numeric) + len(cat_values)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map raw features ``[batch, n_features]`` to model inputs ``[batch, n_outputs]``."""
        numeric = (x.index_select(1, self.numeric_index) - self.mean) / self.std
        if self.category_index.numel() == 0:
            return numeric
        # Unseen categories encode as all zeros rather than failing at serving time.
        one_hot = (x.index_select(1, self.category_index) == self.category_value).to(x.dtype)
        return torch.cat([numeric, one_hot], dim=1)


def build_mlp(
    n_inputs: int, hidden_sizes: Sequence[int], n_outputs: int, dropout: float
) -> nn.Module:
    """Return a ReLU multilayer perceptron producing raw scores (logits / scaled values)."""
    layers: list[nn.Module] = []
    width = n_inputs
    for hidden in hidden_sizes:
        layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


class ServingModule(nn.Module):
    """Preprocessing + MLP + output head, with the serving contract as attributes.

    Attributes:
        feature_columns: Input column order of the ``[batch, n_features]`` float32 tensor.
        task: ``classification`` or ``regression``.
        class_labels: Label of each output column (classification), else empty.
        output_names: Names of the output columns.
    """

    def __init__(self, preprocessor: Preprocessor, hidden_sizes: Sequence[int], dropout: float):
        """Create an untrained module whose shapes follow the fitted ``preprocessor``."""
        super().__init__()
        self.feature_columns = list(preprocessor.feature_columns)
        self.task = preprocessor.task
        self.class_labels = list(preprocessor.class_labels)
        self.output_names = (
            [f"proba_{label}" for label in self.class_labels]
            if self.task == CLASSIFICATION
            else ["prediction"]
        )
        self.transform = FeatureTransform(preprocessor)
        self.network = build_mlp(
            self.transform.n_outputs, hidden_sizes, preprocessor.n_outputs, dropout
        )
        # Regression trains on a standardised target; these undo it at the output.
        self.register_buffer(
            "target_mean", torch.tensor(preprocessor.target_mean or 0.0, dtype=torch.float32)
        )
        self.register_buffer(
            "target_std", torch.tensor(preprocessor.target_std or 1.0, dtype=torch.float32)
        )

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """Raw network output for already transformed features (used by the training loss)."""
        return self.network(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities ``[batch, n_classes]`` or predictions ``[batch, 1]``."""
        scores = self.network(self.transform(x))
        if self.task == CLASSIFICATION:
            return torch.softmax(scores.float(), dim=1)
        return scores.float() * self.target_std + self.target_mean
