"""Representations of a dataset, fitted on its training split and cached beside it.

``Transform`` holds the fitted state of each representation a model takes (see
``vsexp.representations.protocol``): it turns any raw light curves into ``{name: input}``, and it is
what a served model carries. ``build_representations`` fits each state on the training split (or
loads it), computes every star's inputs once and stores them under
``<dataset>/representations/<name>-<key>.npy`` (key = hash of the state), so a second call loads them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from vsexp.console import in_chunks, progress
from vsexp.dataset.build import Dataset, replace_atomically
from vsexp.representations.extractor import FEATURE_GROUPS, FeatureConfig
from vsexp.representations.features import features_by
from vsexp.representations.protocol import Settings, TrainingSplit, cache_key, features_key, representation

log = logging.getLogger(__name__)

TRANSFORM_FORMAT = 2


@dataclasses.dataclass(frozen=True)
class Transform:
    """Fitted representations: raw curves -> ``{name: input}``.

    Attributes:
        states: each representation's fitted state, by name, in the model's input order.
        extractor: the feature extractor the model was trained with; its inputs that need the
            features (or the period) are always made with the same one.
    """

    states: dict[str, Any]
    extractor: FeatureConfig = FeatureConfig()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.states)

    def needs_features(self) -> bool:
        """Whether any input is made from the curves' features (or their period)."""
        return any(representation(name).needs_features(state) for name, state in self.states.items())

    @property
    def feature_groups(self) -> tuple[str, ...]:
        """The feature groups to compute when serving: those of the ``features`` input alone (a forest
        fitted on some groups), every group when another input needs the period."""
        others = any(representation(name).needs_features(state) for name, state in self.states.items()
                     if name != "features")
        return FEATURE_GROUPS if others or "features" not in self.states else self.states["features"]

    def with_feature_groups(self, groups) -> "Transform":
        """The same transform serving only ``groups`` of the ``features`` input."""
        return dataclasses.replace(self, states={**self.states, "features": tuple(groups)})

    def inputs(self, curves, features: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """``{name: [n, ...]}`` for raw curves [(times, mags, errors), ...]; their features, when
        given, are used rather than computed again."""
        if features is None and self.needs_features():
            features = features_by(curves, self.extractor, self.feature_groups)
        return {name: self.compute(name, curves, features) for name in self.states}

    def compute(self, name: str, curves, features: np.ndarray | None = None, progress=None) -> np.ndarray:
        """Inputs of one representation for raw curves, given their features when it needs them."""
        return representation(name).compute(self.states[name], curves, features, self.extractor, progress)

    def key(self, name: str) -> str:
        """The cache key of ``name``'s arrays."""
        return cache_key(name, self.states[name], self.extractor)

    def to_dict(self) -> dict:
        return {"format": TRANSFORM_FORMAT, "extractor": dataclasses.asdict(self.extractor),
                "representations": {name: representation(name).to_dict(state) for name, state in self.states.items()}}

    @classmethod
    def from_dict(cls, data: dict, names=None) -> "Transform":
        """A transform from ``to_dict``; ``names``: the inputs of a model saved in the first format
        (whose transform held every representation's state)."""
        if data.get("format") != TRANSFORM_FORMAT:
            data = _from_first_format(data, names)
        return cls({name: representation(name).from_dict(state) for name, state in data["representations"].items()},
                   FeatureConfig(**data["extractor"]))


def _from_first_format(data: dict, names) -> dict:
    """The first format: one flat dict of every representation's state, without the extractor's
    fields in transforms saved before versions existed (version 1)."""
    extractor = {"version": data.get("features_version", 1),
                 "max_frequency": data.get("max_frequency", FeatureConfig.max_frequency),
                 "single_precision": data.get("single_precision", False)}
    states = {"sequence": {k: data[k] for k in ("sequence_config", "sequence_stats")}, "dmdt": data["dmdt_bins"],
              "folded": {"version": 1, "bins": data.get("fold_bins", 64)},
              "features": {"groups": data.get("feature_groups", list(FEATURE_GROUPS))}}
    if data.get("feature_center") is not None:
        states["features_scaled"] = {"feature_center": data["feature_center"], "feature_scale": data["feature_scale"]}
    return {"extractor": extractor, "representations": {name: states[name] for name in (names or states)}}


def _cached(path: Path, kind: str, dataset: Dataset, compute) -> np.ndarray:
    """The array at ``path`` (memory-mapped), or ``compute(curves, progress)`` over all stars, saved there."""
    if path.exists():
        return np.load(path, mmap_mode="r")
    curves = curve_triples(dataset.table)
    with progress(len(curves), f"{kind} inputs", logger=log) as counter:
        values = compute(curves, counter)
        counter.update(len(curves) - counter.n)
    path.parent.mkdir(parents=True, exist_ok=True)

    def save(target):  # atomic: an interrupted or concurrent build never leaves a half-written cache
        with open(target, "wb") as handle:  # a handle: np.save would append .npy to the name
            np.save(handle, values)

    replace_atomically(path, save)
    log.info("cached %s inputs %s at %s", kind, values.shape, path)
    return values


def representations_folder(dataset: Dataset) -> Path:
    return dataset.path / "representations"


def dataset_features(dataset: Dataset, extractor: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Every star's feature vector (table order) by ``extractor``, computed once and cached; it
    depends on no fitted state."""
    return _cached(representations_folder(dataset) / f"features-{features_key(extractor)}.npy", "features", dataset,
                   # in chunks, for progress (light-curve parallelises within a chunk)
                   lambda curves, counter: in_chunks(lambda chunk: features_by(chunk, extractor), curves, counter))


def curve_triples(table) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """[(times, mags, errors), ...] from a dataset table (rows in order)."""
    return [(np.asarray(t), np.asarray(m), np.asarray(e)) for t, m, e in zip(table["times"], table["mags"], table["errors"])]


def fit_transform(dataset: Dataset, names, settings: Settings = Settings()) -> Transform:
    """Fit the representations ``names`` on the training split only (their features by
    ``settings.extractor``, computed once when one needs them)."""
    rows = (dataset.table["split"] == "train").to_numpy()
    train = TrainingSplit(curve_triples(dataset.table[rows]),
                          lambda: np.asarray(dataset_features(dataset, settings.extractor))[rows], dataset.manifest["seed"])
    return Transform({name: representation(name).fit(settings, train) for name in names}, settings.extractor)


@dataclasses.dataclass
class Representations:
    """A dataset's cached inputs; arrays are in the dataset table's row order."""

    dataset: Dataset
    transform: Transform
    folder: Path

    def array(self, name: str) -> np.ndarray:
        """All stars' inputs of ``name``, computed once and cached (memory-mapped when loaded)."""
        if name == "features":
            return dataset_features(self.dataset, self.transform.extractor)

        def compute(curves, counter):
            features = (np.asarray(dataset_features(self.dataset, self.transform.extractor))
                        if representation(name).needs_features(self.transform.states[name]) else None)
            return self.transform.compute(name, curves, features, progress=counter)

        return _cached(self.folder / f"{name}-{self.transform.key(name)}.npy", name, self.dataset, compute)

    def inputs(self, split: str | None = None) -> dict[str, np.ndarray]:
        """``{name: [n, ...]}`` for the rows of ``split`` (every row when None)."""
        rows = None if split is None else (self.dataset.table["split"] == split).to_numpy()
        return {name: np.asarray(self.array(name) if rows is None else self.array(name)[rows])
                for name in self.transform.names}

    def of(self, other: Dataset) -> "Representations":
        """The same fitted transform applied to ``other`` (e.g. thinned copies of the training
        stars); its inputs are cached beside ``other``."""
        return dataclasses.replace(self, dataset=other, folder=representations_folder(other))

    def describe(self) -> dict:
        return {"transform": self.transform.to_dict(), "folder": str(self.folder),
                "cached": sorted(p.name for p in self.folder.glob("*.npy")) if self.folder.exists() else []}


def build_representations(dataset: Dataset, names, settings: Settings = Settings()) -> Representations:
    """Fit (or load) the representations ``names`` and compute (or load) their inputs for every star."""
    folder = representations_folder(dataset)
    states = {}
    for name in names:  # each fitted state is stored, keyed on the settings it is fitted with
        key = hashlib.sha256(json.dumps([name, dataclasses.asdict(settings)], sort_keys=True).encode()).hexdigest()[:12]
        path = folder / f"fitted-{name}-{key}.json"
        if path.exists():
            states[name] = representation(name).from_dict(json.loads(path.read_text()))
            continue
        states[name] = fit_transform(dataset, (name,), settings).states[name]
        folder.mkdir(parents=True, exist_ok=True)
        replace_atomically(path, lambda target: target.write_text(json.dumps(representation(name).to_dict(states[name]))))
    representations = Representations(dataset, Transform(states, settings.extractor), folder)
    for name in names:
        representations.array(name)
    return representations
