"""The served model: the team's network wrapped with the task's head and the preprocessing.

Also the building block the default ``model.py`` uses (an MLP).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from kedro_mlops_kit.preprocessor import Preprocessor
from kedro_mlops_kit.table import Table, iter_chunks
from kedro_mlops_kit.tasks import CLASSIFICATION


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

    The contract: the float32 preprocessed matrix ``[batch, preprocessor.n_inputs]`` in, raw
    scores ``[batch, n_outputs]`` out (logits for classification, the standardised target for
    regression).
    """
    if not isinstance(network, nn.Module):
        raise TypeError(
            f"build_model must return a torch.nn.Module, got {type(network).__name__}: see the "
            "contract in src/<package>/model.py."
        )
    n_features = preprocessor.n_inputs
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
            f"column per name in preprocessor.feature_names): {error}"
        ) from error
    finally:
        network.train(was_training)
    expected = (2, preprocessor.n_outputs)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise TypeError(
            f"build_model's module maps [batch, {n_features}] inputs to {shape} for a batch of "
            f"2; the contract is [batch, {preprocessor.n_outputs}] (one score per "
            f"{'class' if preprocessor.task == CLASSIFICATION else 'target'})."
        )


class ServingModule(nn.Module):
    """The team's network, the task's output head and the fitted preprocessing, as one model.

    The network (from the project's ``model.build_model``) maps the preprocessed float32 matrix
    ``[batch, preprocessor.n_inputs]`` to raw scores ``[batch, n_outputs]``; this module turns
    scores into probabilities (classification) or target units (regression). The preprocessing
    travels with it, so :meth:`predict_frame` answers raw rows, and export builds the served
    graph (preprocessing + network) from it.

    Attributes:
        preprocessor: The fitted :class:`~kedro_mlops_kit.preprocessor.Preprocessor`.
        feature_columns: Raw columns the model reads (one served input each).
        task: ``classification`` or ``regression``.
        class_labels: Label of each output column (classification), else empty.
        output_names: Names of the output columns.
    """

    def __init__(self, network: nn.Module, preprocessor: Preprocessor):
        """Wrap ``network`` for the fitted ``preprocessor`` (its columns, task and labels)."""
        super().__init__()
        check_network(network, preprocessor)
        self.preprocessor = preprocessor
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
        """Raw network output for preprocessed inputs (what the training loss sees)."""
        return self.network(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities ``[batch, n_classes]`` or predictions ``[batch, 1]``."""
        scores = self.network(x)
        if self.task == CLASSIFICATION:
            return torch.softmax(scores.float(), dim=1)
        return scores.float() * self.target_std + self.target_mean

    def predict_frame(self, frame: pd.DataFrame | Table, batch_size: int = 65_536) -> np.ndarray:
        """Answer raw rows: probabilities ``[n, n_classes]`` or predictions ``[n, 1]``.

        Rows are encoded and scored ``batch_size`` at a time (a Table: a chunk at a time, read
        from disk), so memory stays bounded.
        """
        self.eval()
        outputs = []
        with torch.no_grad():
            for part in iter_chunks(frame, batch_size):
                for start in range(0, len(part), batch_size):
                    chunk = part.iloc[start : start + batch_size]
                    x = torch.from_numpy(self.preprocessor.transform(chunk))
                    outputs.append(self(x).numpy())
        return np.concatenate(outputs) if outputs else np.zeros((0, len(self.output_names)))
