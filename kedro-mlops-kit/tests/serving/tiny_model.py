"""A tiny model honouring the training pipeline's contract, with awkward names on purpose.

Feature names and class labels hold commas, quotes and non-ASCII characters: they must survive
export -> model.onnx contract -> client -> predict output unchanged.
"""

import torch

FEATURES = ["f_age", "f_income,usd", "f_scoré", 'f_"tenure"']
LABELS = ["no", "a,b", "café"]


class TinyMLP(torch.nn.Module):
    """Raw features in, class probabilities (or one regression value) out."""

    def __init__(self, n_outputs: int, task: str, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.feature_columns = list(FEATURES)
        self.task = task
        # Like the training pipeline's ServingModule: regression models carry an empty list.
        self.class_labels = list(LABELS[:n_outputs]) if task == "classification" else []
        # Standardisation inside the module: the contract says the module takes RAW features.
        self.register_buffer("mean", torch.tensor([40.0, 50_000.0, 0.5, 3.0]))
        self.register_buffer("std", torch.tensor([12.0, 20_000.0, 0.25, 2.0]))
        self.net = torch.nn.Sequential(
            torch.nn.Linear(len(FEATURES), 16), torch.nn.ReLU(), torch.nn.Linear(16, n_outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net((x - self.mean) / self.std)
        return torch.softmax(z, dim=-1) if self.task == "classification" else z
