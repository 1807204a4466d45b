"""Device selection and mixed-precision settings for training."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(choice: str) -> torch.device:
    """Map the ``device`` parameter (``auto`` | ``cpu`` | ``cuda``) to a torch device."""
    if choice not in DEVICE_CHOICES:
        raise ValueError(f"training.device must be one of {DEVICE_CHOICES}, got {choice!r}.")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("training.device is 'cuda' but no CUDA device is available; use 'auto'.")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed-precision dtype for ``device``: bf16 where supported, else fp16; None on CPU."""
    if device.type != "cuda":
        # CPU autocast gives no speed-up for small MLPs and costs reproducibility.
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device) -> AbstractContextManager:
    """Return the autocast context for ``device`` (a no-op context on CPU)."""
    dtype = autocast_dtype(device)
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device) -> torch.amp.GradScaler:
    """Return a gradient scaler, enabled only for fp16 where small gradients underflow."""
    return torch.amp.GradScaler(device.type, enabled=autocast_dtype(device) == torch.float16)
