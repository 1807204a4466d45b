"""Which process of a ``torchrun`` launch this is, read from the environment only.

``torchrun`` sets ``RANK`` and ``WORLD_SIZE`` for each process it starts. This module imports
nothing heavy, so Kedro's settings and hooks can ask it at start-up without loading PyTorch.
Without ``torchrun`` (or with one process) every answer is the single-process one.
"""

from __future__ import annotations

import os


def world_size() -> int:
    """Return the number of training processes (1 without ``torchrun``)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """Return the global rank of this process (0 without ``torchrun``)."""
    return int(os.environ.get("RANK", "0"))


def is_rank_zero() -> bool:
    """Tell whether this process is the one that writes files and logs results."""
    return rank() == 0


def is_distributed() -> bool:
    """Tell whether training runs on more than one process."""
    return world_size() > 1
