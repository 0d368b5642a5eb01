"""The feature extractor's settings and constants: which extractor (version), the periodograms'
ceiling and precision, the feature groups. Kept apart from the extractor itself
(``vsexp.representations.features``) so that checking a setting imports nothing heavy."""

from __future__ import annotations

import dataclasses

from vsexp.errors import ConfigError

FEATURE_GROUPS = ("statistics", "periodogram", "harmonic", "second_period")  # the columns, by group: vsexp.representations.features
FEATURES_VERSION = 2  # what the feature extractor computes by default; models record theirs (see cache.Transform)
FEATURE_VERSIONS = (1, 2, 3)
MAX_FREQUENCY = 25.0  # cycles/day, the periodograms' default ceiling: covers delta Scuti and half-period contact binaries
MAX_FREQUENCY_RANGE = (0.1, 100.0)  # the ceilings the feature extractor accepts
SECOND_PERIOD_SEARCHES = ("full", "coarse")  # where the residuals' periodogram looks for a second period


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """The feature extractor (``vsexp.representations.features``) behind the features, the periods,
    folding and phases; a model records it and is served with the same one.

    Attributes:
        version: which extractor (``FEATURE_VERSIONS``; 2 chooses the period among three peaks,
            3 among those and the highest one's daily aliases).
        max_frequency: the periodograms' ceiling in cycles/day, at the same frequency step whatever
            it is: 25 covers delta Scuti; CRTS's seven classes have every period below 12.5, where
            both periodograms cost half as much.
        single_precision: both periodograms computed in float32 on times counted from each
            curve's first observation (~1.6x faster; the statistics and harmonic fits stay float64).
        second_period: how the fit's residuals are searched for a second period: ``full``, their
            periodogram on the main one's grid (as costly as the main one); ``coarse``, on a grid
            four times coarser in single precision, its three highest peaks refined on the main
            step (about a seventh of the cost).
    """

    version: int = FEATURES_VERSION
    max_frequency: float = MAX_FREQUENCY
    single_precision: bool = False
    second_period: str = "full"

    def __post_init__(self):
        if self.version not in FEATURE_VERSIONS:
            raise ConfigError(f"features.version must be one of {', '.join(map(str, FEATURE_VERSIONS))}, "
                              f"got {self.version}")
        low, high = MAX_FREQUENCY_RANGE
        if not low <= self.max_frequency <= high:
            raise ConfigError(f"features.max_frequency must be in [{low}, {high}] cycles/day, got {self.max_frequency}")
        if self.second_period not in SECOND_PERIOD_SEARCHES:
            raise ConfigError(f"features.second_period must be one of {', '.join(SECOND_PERIOD_SEARCHES)}, "
                              f"got '{self.second_period}'")
