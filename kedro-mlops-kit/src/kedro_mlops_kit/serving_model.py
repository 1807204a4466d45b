"""The served model: the team's network wrapped with the task's head and the serving contract.

Also the building blocks the default ``model.py`` uses (feature transform, MLP).

Only torch is imported here so serving code (MLflow pyfunc, ONNX export) can load the module
without the Kedro stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.tasks import CLASSIFICATION


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


def check_network(network: nn.Module, preprocessor: Preprocessor) -> None:
    """Check that ``network`` honours the contract on two zero rows; raise ``TypeError`` if not.

    The contract: float32 raw features ``[batch, len(feature_columns)]`` in, raw scores
    ``[batch, n_outputs]`` out (logits for classification, the standardised target for
    regression).
    """
    if not isinstance(network, nn.Module):
        raise TypeError(
            f"build_model must return a torch.nn.Module, got {type(network).__name__}: see the "
            "contract in src/<package>/model.py."
        )
    n_features = len(preprocessor.feature_columns)
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            out = network(torch.zeros(2, n_features, dtype=torch.float32))
    except Exception as error:
        # A network built for another input width fails inside torch ("mat1 and mat2 shapes
        # cannot be multiplied"); say which contract it broke.
        raise TypeError(
            f"build_model's module failed on a float32 batch of shape [2, {n_features}] (one "
            f"column per feature in preprocessor.feature_columns): {error}"
        ) from error
    finally:
        network.train(was_training)
    expected = (2, preprocessor.n_outputs)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise TypeError(
            f"build_model's module maps [batch, {n_features}] features to {shape} for a batch of "
            f"2; the contract is [batch, {preprocessor.n_outputs}] (one score per "
            f"{'class' if preprocessor.task == CLASSIFICATION else 'target'})."
        )


class ServingModule(nn.Module):
    """The team's network plus the task's output head, with the serving contract as attributes.

    The network (from the project's ``model.build_model``) maps raw float32 features
    ``[batch, n_features]`` to raw scores ``[batch, n_outputs]``; this module turns scores into
    probabilities (classification) or target units (regression) and carries what export,
    serving and evaluation need to know.

    Attributes:
        feature_columns: Input column order of the ``[batch, n_features]`` float32 tensor.
        task: ``classification`` or ``regression``.
        class_labels: Label of each output column (classification), else empty.
        output_names: Names of the output columns.
    """

    def __init__(self, network: nn.Module, preprocessor: Preprocessor):
        """Wrap ``network`` for the fitted ``preprocessor`` (its columns, task and labels)."""
        super().__init__()
        check_network(network, preprocessor)
        self.feature_columns = list(preprocessor.feature_columns)
        self.task = preprocessor.task
        self.class_labels = list(preprocessor.class_labels)
        self.output_names = (
            [f"proba_{label}" for label in self.class_labels]
            if self.task == CLASSIFICATION
            else ["prediction"]
        )
        self.network = network
        # Regression trains on a standardised target; these undo it at the output.
        self.register_buffer(
            "target_mean", torch.tensor(preprocessor.target_mean or 0.0, dtype=torch.float32)
        )
        self.register_buffer(
            "target_std", torch.tensor(preprocessor.target_std or 1.0, dtype=torch.float32)
        )

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Raw network output for raw features (what the training loss sees)."""
        return self.network(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities ``[batch, n_classes]`` or predictions ``[batch, 1]``."""
        scores = self.network(x)
        if self.task == CLASSIFICATION:
            return torch.softmax(scores.float(), dim=1)
        return scores.float() * self.target_std + self.target_mean
