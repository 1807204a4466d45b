"""Evaluate on the test split, apply the quality gate and register / promote the model."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
