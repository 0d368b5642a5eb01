"""The feature forest's settings."""

from __future__ import annotations

import dataclasses

from vsexp.config import comma_separated
from vsexp.errors import ConfigError
from vsexp.representations.extractor import FEATURE_GROUPS

FOREST_KINDS = ("random", "boosted")


@dataclasses.dataclass(frozen=True)
class ForestConfig:
    """Tree ensemble on light-curve features; see ``vsexp.models.forest``.

    Attributes:
        kind: ``random`` (a random forest, the baseline) or ``boosted`` (histogram gradient
            boosting, early-stopped on a tenth of the training split).
        n_estimators: trees (random) or at most this many boosting iterations (boosted).
        max_features: features tried per split (random only).
        min_samples_leaf: 0 = the estimator's default (1 random, 20 boosted).
        learning_rate: shrinkage of each boosting iteration (boosted only).
        feature_groups: the groups of features the model is fitted on, comma-separated (``""`` = all
            of ``FEATURE_GROUPS``): the ablation of each group's contribution is one option away.
    """

    name: str = "baseline"
    kind: str = "random"
    n_estimators: int = 500
    max_features: str = "sqrt"
    min_samples_leaf: int = 0
    learning_rate: float = 0.05
    feature_groups: str = ""

    def __post_init__(self):
        if self.kind not in FOREST_KINDS:
            raise ConfigError(f"model.kind must be one of {', '.join(FOREST_KINDS)}, got '{self.kind}'")
        named = comma_separated(self.feature_groups)
        if set(named) - set(FEATURE_GROUPS) or (self.feature_groups.strip() and not named):
            raise ConfigError(f"model.feature_groups must be a comma-separated subset of {', '.join(FEATURE_GROUPS)} "
                              f"(empty = all), got '{self.feature_groups}'")
        if self.n_estimators < 1 or self.min_samples_leaf < 0 or not 0 < self.learning_rate <= 1:
            raise ConfigError(f"model.n_estimators must be >= 1, model.min_samples_leaf >= 0 and model.learning_rate "
                              f"in (0, 1]; got {self.n_estimators}, {self.min_samples_leaf}, {self.learning_rate}")

    @property
    def feature_group_list(self) -> tuple[str, ...]:
        """The groups fitted on, in ``FEATURE_GROUPS`` order (all when ``feature_groups`` is empty)."""
        named = comma_separated(self.feature_groups)
        return tuple(g for g in FEATURE_GROUPS if g in named or not named)
