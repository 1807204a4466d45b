"""Drift-detector pipeline: fit the drift detector that travels with each trained model."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
