"""Hyperparameter search: spaces (each model family's search_space.toml), Optuna and Keras Tuner drivers."""
