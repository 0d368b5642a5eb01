"""The feature models: a random forest (UPSILoN-style, the baseline) or gradient-boosted trees."""

from __future__ import annotations

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline

from vsexp.models.forest.config import ForestConfig
from vsexp.representations.extractor import FEATURE_GROUPS
from vsexp.representations.features import feature_columns


class NamedInput(TransformerMixin, BaseEstimator):
    """Takes one array out of a dict of model inputs (``{"features": [n, F]}`` -> [n, F]), so a
    scikit-learn pipeline is given its inputs as every model is."""

    def __init__(self, name: str = "features"):
        self.name = name

    def fit(self, inputs, labels=None):
        return self

    def transform(self, inputs):
        return inputs[self.name]


def build_forest(config: ForestConfig, seed: int = 0) -> Pipeline:
    """A class-balanced tree ensemble on ``{"features": [n, F]}``; missing feature values (NaN) are
    handled by the trees.

    With ``config.feature_groups`` naming fewer than all groups, only their columns of the full
    feature vector reach the ensemble (it is fitted and served on the full vector).
    """
    if config.kind == "boosted":
        ensemble = HistGradientBoostingClassifier(
            max_iter=config.n_estimators, learning_rate=config.learning_rate,
            min_samples_leaf=config.min_samples_leaf or 20, class_weight="balanced",
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=20, random_state=seed,
        )
    else:
        ensemble = RandomForestClassifier(
            n_estimators=config.n_estimators, max_features=config.max_features,
            min_samples_leaf=config.min_samples_leaf or 1, class_weight="balanced_subsample", n_jobs=-1,
            random_state=seed,
        )
    steps = [("features", NamedInput("features"))]
    groups = config.feature_group_list
    if groups != FEATURE_GROUPS:
        steps.append(("feature_groups", ColumnTransformer([("+".join(groups), "passthrough", feature_columns(groups))])))
    return Pipeline([*steps, ("ensemble", ensemble)])
