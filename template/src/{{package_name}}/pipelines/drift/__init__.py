"""Drift pipeline: check a production batch against the champion's drift detector."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
