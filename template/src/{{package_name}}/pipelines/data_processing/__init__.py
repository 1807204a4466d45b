"""Validate the raw data, split it reproducibly and fit preprocessing on the training split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
