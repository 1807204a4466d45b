"""Evaluation: test metrics and plots, the quality gate, registration and promotion."""
