"""Serving: ONNX export for Triton, a local Triton runner, a typed client, rollback and benchmarks.

Modules are deliberately small; import the one you need (``from .client import TritonClient``).
"""
