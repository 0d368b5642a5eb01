"""Hyperparameter search: spaces (from experiments/search_spaces), Optuna and Keras Tuner drivers."""
