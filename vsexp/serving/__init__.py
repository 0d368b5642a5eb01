"""Batch prediction from files with a logged model (what `vsexp predict` runs)."""
