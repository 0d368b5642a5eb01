"""The feature baseline: a random forest on light-curve features (UPSILoN-style)."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier

from vsexp.config import ForestConfig


def build_forest(config: ForestConfig, seed: int = 0) -> RandomForestClassifier:
    """A class-balanced random forest; missing feature values (NaN) are handled by the trees."""
    return RandomForestClassifier(
        n_estimators=config.n_estimators, max_features=config.max_features, min_samples_leaf=config.min_samples_leaf,
        class_weight="balanced_subsample", n_jobs=-1, random_state=seed,
    )
