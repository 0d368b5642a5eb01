"""Representations of a dataset, fitted on its training split and cached beside it.

``Transform`` is the fitted preprocessing (sequence statistics, dm-dt bins): it turns any raw
light curves into model inputs, and it is what a served model carries. ``build_representations``
fits it on the training split, computes every star's inputs once and stores them under
``<dataset>/representations/<kind>-<key>.npy`` (key = hash of the config and the fitted state), so a
second call loads them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from vsexp.console import in_chunks, progress
from vsexp.config import FEATURE_GROUPS, DmdtConfig, FeatureConfig, SequenceConfig
from vsexp.dataset.build import Dataset, replace_atomically
from vsexp.representations import dmdt, sequences
from vsexp.representations.features import MAX_FREQUENCY, extract_features

log = logging.getLogger(__name__)

INPUT_KINDS = ("sequence", "dmdt", "features", "folded", "features_scaled")
FOLD_BINS = 64
FEATURE_CLIP = 10.0


def _extractor_state(extractor: FeatureConfig):
    """What identifies an extractor in cache keys: its version alone at the default ceiling and
    precision (the keys made before either could change), else the version with the ceiling and,
    when single, the precision."""
    if extractor.max_frequency == MAX_FREQUENCY and not extractor.single_precision:
        return extractor.version
    state = {"version": extractor.version, "max_frequency": extractor.max_frequency}
    return state | {"single_precision": True} if extractor.single_precision else state


def features_key(extractor: FeatureConfig = FeatureConfig()) -> str:
    """Cache key of the features computed by ``extractor``."""
    state = _extractor_state(extractor)
    return hashlib.sha256(json.dumps(state if isinstance(state, dict) else {"version": state},
                                     sort_keys=True).encode()).hexdigest()[:12]


def features_of(curves, features: np.ndarray | None = None, extractor: FeatureConfig = FeatureConfig(),
                groups=FEATURE_GROUPS) -> np.ndarray:
    """``features`` when already at hand, else the curves' features computed now (by ``extractor``;
    only ``groups``, the other columns NaN)."""
    if features is not None:
        return features
    return extract_features(curves, version=extractor.version, max_frequency=extractor.max_frequency,
                            single_precision=extractor.single_precision, groups=groups)


def _folds(curves, needed: bool, features, extractor: FeatureConfig):
    """Per-curve folds when ``needed`` (features computed when not given), else None."""
    if not needed:
        return None
    from vsexp.representations.folded import curve_folds

    return curve_folds(curves, features_of(curves, features, extractor))


@dataclasses.dataclass(frozen=True)
class Transform:
    """Fitted preprocessing: raw curves -> model inputs.

    Attributes:
        sequence_config / sequence_stats: padded-sequence settings and training statistics.
        dmdt_bins: the dm-dt grid chosen on the training split.
        fold_bins: phase bins of folded curves.
        feature_center / feature_scale: training medians and interquartile ranges of the features
            (set when a network takes the feature vector; None otherwise).
        features_version / max_frequency / single_precision: the feature extractor the model was
            trained with (``extractor``); its inputs are always made with the same one.
        feature_groups: the groups of the ``features`` input a model uses (a forest fitted on some
            groups, ``model.feature_groups``): only those, and what they are computed from, are
            computed when it serves raw curves. Inputs made from the period use every group.
    """

    sequence_config: SequenceConfig
    sequence_stats: sequences.SequenceStats
    dmdt_bins: dmdt.DmdtBins
    fold_bins: int = FOLD_BINS
    feature_center: tuple[float, ...] | None = None
    feature_scale: tuple[float, ...] | None = None
    features_version: int = FeatureConfig.version
    max_frequency: float = MAX_FREQUENCY
    single_precision: bool = False
    feature_groups: tuple[str, ...] = FEATURE_GROUPS

    @property
    def extractor(self) -> FeatureConfig:
        return FeatureConfig(self.features_version, self.max_frequency, self.single_precision)

    def sequences(self, curves, features: np.ndarray | None = None) -> np.ndarray:
        """[n, length, channels] float32 from [(times, mags, errors), ...] (and, when the sequences
        are phase-ordered or carry a phase channel, the curves' features, computed if not given)."""
        return sequences.pad_sequences(curves, self.sequence_config, self.sequence_stats,
                                       _folds(curves, self.sequence_config.needs_period, features, self.extractor))

    def dmdt(self, curves, features: np.ndarray | None = None, progress=None) -> np.ndarray:
        """[n, n_dm, n_dt] uint8 images from [(times, mags, errors), ...]; [n, n_dm, n_dt, 2] with the
        dm-dphase channel (which needs the curves' features, computed if not given)."""
        images = dmdt.dmdt_images(curves, self.dmdt_bins, progress=progress)
        if not self.dmdt_bins.phase_channel:
            return images
        phase = dmdt.dmdt_phase_images(curves, _folds(curves, True, features, self.extractor), self.dmdt_bins)
        return np.stack([images, phase], axis=-1)

    @property
    def period_kinds(self) -> set[str]:
        """Input kinds that need each curve's period, hence its features."""
        return ({"folded"} | ({"sequence"} if self.sequence_config.needs_period else set())
                | ({"dmdt"} if self.dmdt_bins.phase_channel else set()))

    def scale_features(self, features: np.ndarray) -> np.ndarray:
        """Robustly standardised features, NaN -> 0 (the median), clipped to +-10."""
        if self.feature_center is None:
            raise ValueError("this transform has no feature scaling (fit it with with_feature_scaling)")
        scaled = (features - np.asarray(self.feature_center)) / np.asarray(self.feature_scale)
        return np.clip(np.nan_to_num(scaled, nan=0.0), -FEATURE_CLIP, FEATURE_CLIP).astype(np.float32)

    def with_feature_scaling(self, train_features: np.ndarray) -> "Transform":
        center = np.nanmedian(train_features, axis=0)
        spread = np.nanpercentile(train_features, 75, axis=0) - np.nanpercentile(train_features, 25, axis=0)
        scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
        return dataclasses.replace(self, feature_center=tuple(np.nan_to_num(center).tolist()),
                                   feature_scale=tuple(scale.tolist()))

    def needs_features(self, kind) -> bool:
        """Whether inputs of ``kind`` (or of any of a tuple of kinds) are made from the features."""
        kinds = set(kind) if isinstance(kind, (tuple, list)) else {kind}
        return bool(kinds & ({"features", "features_scaled"} | self.period_kinds))

    def inputs(self, kind, curves, features: np.ndarray | None = None):
        """Model inputs of ``kind`` (or a dict of them for a tuple of kinds) for raw curves; their
        features, when given, are used rather than computed again."""
        if self.needs_features(kind):
            features = features_of(curves, features, self.extractor, self._groups(kind))
        if isinstance(kind, (tuple, list)):
            return {k: self.compute(k, curves, features) for k in kind}
        return self.compute(kind, curves, features)

    def compute(self, kind: str, curves, features=None):
        """Inputs of one ``kind`` for raw curves, given their features when already at hand."""
        if kind == "sequence":
            return self.sequences(curves, features)
        if kind == "dmdt":
            return self.dmdt(curves, features)
        if kind in ("features", "folded", "features_scaled"):
            features = features_of(curves, features, self.extractor, self._groups(kind))
            if kind == "features":
                return features
            if kind == "features_scaled":
                return self.scale_features(features)
            from vsexp.representations.folded import folded_curves

            return folded_curves(curves, features, self.fold_bins)
        raise ValueError(f"unknown input kind '{kind}' (allowed: {', '.join(INPUT_KINDS)})")

    def _groups(self, kind) -> tuple[str, ...]:
        """The feature groups inputs of ``kind`` need: ``feature_groups`` for the features alone."""
        return self.feature_groups if kind == "features" else FEATURE_GROUPS

    def to_dict(self) -> dict:
        return {"sequence_config": dataclasses.asdict(self.sequence_config),
                "sequence_stats": self.sequence_stats.to_dict(), "dmdt_bins": self.dmdt_bins.to_dict(),
                "fold_bins": self.fold_bins,
                "feature_center": list(self.feature_center) if self.feature_center is not None else None,
                "feature_scale": list(self.feature_scale) if self.feature_scale is not None else None,
                "features_version": self.features_version, "max_frequency": self.max_frequency,
                "single_precision": self.single_precision, "feature_groups": list(self.feature_groups)}

    @classmethod
    def from_dict(cls, data: dict) -> "Transform":
        center, scale = data.get("feature_center"), data.get("feature_scale")
        return cls(SequenceConfig(**data["sequence_config"]), sequences.SequenceStats.from_dict(data["sequence_stats"]),
                   dmdt.DmdtBins.from_dict(data["dmdt_bins"]), data.get("fold_bins", FOLD_BINS),
                   tuple(center) if center is not None else None, tuple(scale) if scale is not None else None,
                   data.get("features_version", 1),  # transforms saved before versions existed used version 1
                   data.get("max_frequency", MAX_FREQUENCY), data.get("single_precision", False),
                   tuple(data.get("feature_groups", FEATURE_GROUPS)))

    def key(self, kind: str) -> str:
        state = self.to_dict()
        if kind == "features":
            return features_key(self.extractor)
        extractor = _extractor_state(self.extractor)
        sequence = {k: state[k] for k in ("sequence_config", "sequence_stats")}
        if self.sequence_config.needs_period:
            sequence["features"] = extractor
        images = dict(state["dmdt_bins"], features=extractor) if self.dmdt_bins.phase_channel else state["dmdt_bins"]
        part = {"sequence": sequence, "dmdt": images,
                "folded": {"version": 1, "bins": self.fold_bins, "features": extractor}}[kind]
        return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()[:12]


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
                   lambda curves, counter: in_chunks(lambda chunk: features_of(chunk, extractor=extractor), curves,
                                                     counter))


def curve_triples(table) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """[(times, mags, errors), ...] from a dataset table (rows in order)."""
    return [(np.asarray(t), np.asarray(m), np.asarray(e)) for t, m, e in zip(table["times"], table["mags"], table["errors"])]


def fit_transform(dataset: Dataset, sequence_config: SequenceConfig, dmdt_config: DmdtConfig,
                  train_features: np.ndarray | None = None, extractor: FeatureConfig = FeatureConfig()) -> Transform:
    """Fit sequence statistics and dm-dt bins on the training split only (``train_features``: the
    training curves' features by ``extractor``, used when the sequences need periods)."""
    train = curve_triples(dataset.split("train"))
    return Transform(sequence_config,
                     sequences.fit_stats(train, sequence_config,
                                         _folds(train, sequence_config.needs_period, train_features, extractor)),
                     dmdt.choose_bins(train, dmdt_config, seed=dataset.manifest["seed"]),
                     features_version=extractor.version, max_frequency=extractor.max_frequency,
                     single_precision=extractor.single_precision)


@dataclasses.dataclass
class Representations:
    """A dataset's cached inputs; arrays are in the dataset table's row order."""

    dataset: Dataset
    transform: Transform
    folder: Path

    @property
    def dmdt_shape(self) -> list[int]:
        return list(self.transform.dmdt_bins.shape)

    def array(self, kind: str) -> np.ndarray:
        """All stars' inputs of ``kind``, computed once and cached (memory-mapped when loaded)."""
        if kind == "features_scaled":
            return self.transform.scale_features(np.asarray(self.array("features")))
        if kind == "features":
            return dataset_features(self.dataset, self.transform.extractor)

        def compute(curves, progress):
            features = np.asarray(self.array("features")) if kind in self.transform.period_kinds else None
            if kind == "dmdt":
                return self.transform.dmdt(curves, features, progress=progress)
            return self.transform.compute(kind, curves, features)

        return _cached(self.folder / f"{kind}-{self.transform.key(kind)}.npy", kind, self.dataset, compute)

    def inputs(self, kind, split: str):
        """Inputs of ``kind`` (a dict for a tuple of kinds) for the rows of ``split``."""
        if isinstance(kind, (tuple, list)):
            return {k: self.inputs(k, split) for k in kind}
        mask = (self.dataset.table["split"] == split).to_numpy()
        return np.asarray(self.array(kind)[mask])

    def of(self, other: Dataset) -> "Representations":
        """The same fitted transform applied to ``other`` (e.g. thinned copies of the training
        stars); its inputs are cached beside ``other``."""
        return dataclasses.replace(self, dataset=other, folder=representations_folder(other))

    def with_feature_scaling(self) -> "Representations":
        """The same representations, the transform now scaling features with training statistics."""
        train = self.inputs("features", "train")
        return dataclasses.replace(self, transform=self.transform.with_feature_scaling(train))

    def describe(self) -> dict:
        return {"transform": self.transform.to_dict(), "folder": str(self.folder),
                "cached": sorted(p.name for p in self.folder.glob("*.npy")) if self.folder.exists() else []}


def build_representations(dataset: Dataset, sequence_config: SequenceConfig, dmdt_config: DmdtConfig,
                          kinds=("sequence", "dmdt"), extractor: FeatureConfig = FeatureConfig()) -> Representations:
    """Fit (or load) the transform and compute (or load) the inputs of ``kinds``, features and
    periods by ``extractor``."""
    folder = representations_folder(dataset)
    # a new transform for each feature extractor: it is recorded in the transform and the model
    transform_key = hashlib.sha256(json.dumps([dataclasses.asdict(sequence_config), dataclasses.asdict(dmdt_config),
                                               _extractor_state(extractor)], sort_keys=True).encode()).hexdigest()[:12]
    transform_path = folder / f"transform-{transform_key}.json"
    if transform_path.exists():
        transform = Transform.from_dict(json.loads(transform_path.read_text()))
    else:
        train_features = None
        if sequence_config.needs_period:
            train_features = np.asarray(dataset_features(dataset, extractor))[(dataset.table["split"] == "train").to_numpy()]
        transform = fit_transform(dataset, sequence_config, dmdt_config, train_features, extractor)
        folder.mkdir(parents=True, exist_ok=True)
        replace_atomically(transform_path, lambda target: target.write_text(json.dumps(transform.to_dict())))
    representations = Representations(dataset, transform, folder)
    for kind in kinds:
        for part in (kind if isinstance(kind, (tuple, list)) else (kind,)):
            if part != "features_scaled":
                representations.array(part)
    if any("features_scaled" in (k if isinstance(k, (tuple, list)) else (k,)) for k in kinds):
        representations = representations.with_feature_scaling()
    return representations
