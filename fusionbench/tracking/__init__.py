"""Experiment tracking observers (MLflow)."""
