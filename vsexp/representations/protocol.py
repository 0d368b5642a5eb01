"""The representation protocol: how raw light curves become one named model input.

A representation is fitted on the training split (its fitted *state*: sequence statistics, dm-dt
bins, feature scaling...), then computes inputs for any curves from that state. Each lives in its
own module and is listed in ``REPRESENTATION_MODULES``; ``representation(name)`` finds it. A model
family names the representations it takes (``ModelFamily.inputs``); everything between the curves
and the model (caching, serving, cross-validation) passes ``{name: array}`` dicts.

The curves' features (``vsexp.representations.features``) are computed once per batch by the
``Transform`` and handed to every representation that says it ``needs_features`` (the period,
for folding and phases, comes from them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from vsexp.config import DmdtConfig, SequenceConfig
from vsexp.errors import ConfigError
from vsexp.representations.extractor import FeatureConfig

Curves = Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]  # [(times, mags, errors), ...]

REPRESENTATION_MODULES = {
    "sequence": "vsexp.representations.sequences",
    "dmdt": "vsexp.representations.dmdt",
    "features": "vsexp.representations.features",
    "features_scaled": "vsexp.representations.scaled_features",
    "folded": "vsexp.representations.folded",
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings representations are fitted with (the ``TrainConfig`` sections they read)."""

    sequence: SequenceConfig = SequenceConfig()
    dmdt: DmdtConfig = DmdtConfig()
    extractor: FeatureConfig = FeatureConfig()

    @classmethod
    def of(cls, config) -> "Settings":
        """The settings of a ``TrainConfig``."""
        return cls(config.sequence, config.dmdt, config.features)


@dataclasses.dataclass(frozen=True)
class TrainingSplit:
    """What a representation may fit on: the training curves, their features (computed on first
    use, by the settings' extractor) and the data set's seed."""

    curves: Curves
    features: Callable[[], np.ndarray]
    seed: int = 0


class Representation(Protocol):
    """One model input.

    Attributes:
        name: the input's name (the Keras ``Input`` name, the cache file's prefix).
    """

    name: str

    def fit(self, settings: Settings, train: TrainingSplit) -> Any:
        """The fitted state, from the training split only."""

    def needs_features(self, state) -> bool:
        """Whether ``compute`` needs the curves' features (their period, or the vector itself)."""

    def compute(self, state, curves: Curves, features: np.ndarray | None, extractor: FeatureConfig,
                progress=None) -> np.ndarray:
        """Inputs [n, ...] for ``curves`` (features [n, F] given when ``needs_features``)."""

    def to_dict(self, state) -> dict:
        """The state as JSON-able data (saved with the cache and with every served model)."""

    def from_dict(self, data: dict) -> Any:
        """The state back from ``to_dict``."""


def representation(name: str) -> Representation:
    """The representation called ``name``.

    Raises:
        ConfigError: no representation has that name.
    """
    if name not in REPRESENTATION_MODULES:
        raise ConfigError(f"unknown representation '{name}' (allowed: {', '.join(REPRESENTATION_MODULES)})")
    return importlib.import_module(REPRESENTATION_MODULES[name]).REPRESENTATION


def cache_key(name: str, state, extractor: FeatureConfig) -> str:
    """What a cached array of ``name`` depends on: its state, and the extractor when it uses the
    features. The features' own key is the extractor's alone (``features_key``)."""
    found = representation(name)
    if hasattr(found, "cache_key"):
        return found.cache_key(state, extractor)
    part = found.to_dict(state)
    if found.needs_features(state):
        part = {"state": part, "features": extractor_state(extractor)}
    return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()[:12]


def extractor_state(extractor: FeatureConfig):
    """What identifies an extractor in cache keys: its version alone when every other setting is
    at its default (the keys made before they could change), else the version with the ceiling and
    the settings that are not at their defaults."""
    if extractor == FeatureConfig(version=extractor.version):
        return extractor.version
    state = {"version": extractor.version, "max_frequency": extractor.max_frequency}
    if extractor.single_precision:
        state["single_precision"] = True
    if extractor.second_period != FeatureConfig.second_period:
        state["second_period"] = extractor.second_period
    return state


def features_key(extractor: FeatureConfig = FeatureConfig()) -> str:
    """Cache key of the features computed by ``extractor``."""
    state = extractor_state(extractor)
    return hashlib.sha256(json.dumps(state if isinstance(state, dict) else {"version": state},
                                     sort_keys=True).encode()).hexdigest()[:12]
