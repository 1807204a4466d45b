"""Train the PyTorch serving module with early stopping."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
