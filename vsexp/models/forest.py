"""The feature models: a random forest (UPSILoN-style, the baseline) or gradient-boosted trees."""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from vsexp.config import ForestConfig


def build_forest(config: ForestConfig, seed: int = 0) -> RandomForestClassifier | HistGradientBoostingClassifier:
    """A class-balanced tree ensemble; missing feature values (NaN) are handled by the trees."""
    if config.kind == "boosted":
        return HistGradientBoostingClassifier(
            max_iter=config.n_estimators, learning_rate=config.learning_rate,
            min_samples_leaf=config.min_samples_leaf or 20, class_weight="balanced",
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=20, random_state=seed,
        )
    return RandomForestClassifier(
        n_estimators=config.n_estimators, max_features=config.max_features,
        min_samples_leaf=config.min_samples_leaf or 1, class_weight="balanced_subsample", n_jobs=-1,
        random_state=seed,
    )
