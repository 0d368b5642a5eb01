"""Fitting models (with injected callbacks) and computing evaluation metrics."""
