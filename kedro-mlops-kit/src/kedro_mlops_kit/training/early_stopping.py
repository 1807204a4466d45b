"""Early stopping on validation loss."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from torch import nn


@dataclass
class EarlyStopping:
    """Track the best validation loss and keep a copy of the best weights.

    Attributes:
        patience: Epochs without improvement tolerated before stopping.
        min_delta: Improvement smaller than this does not reset the patience counter.
    """

    patience: int
    min_delta: float = 0.0
    best_loss: float = float("inf")
    best_epoch: int = -1
    bad_epochs: int = 0
    best_state: dict = field(default_factory=dict, repr=False)

    def update(self, epoch: int, val_loss: float, model: nn.Module) -> bool:
        """Record ``val_loss`` for ``epoch``; return True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            self.best_epoch = epoch
            self.bad_epochs = 0
            # Deep copy: state_dict tensors alias the live parameters the optimiser mutates.
            self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore_best(self, model: nn.Module) -> None:
        """Load the best weights seen back into ``model``."""
        if self.best_state:
            model.load_state_dict(self.best_state)
