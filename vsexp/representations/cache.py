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
from tqdm.auto import tqdm

from vsexp.config import DmdtConfig, SequenceConfig
from vsexp.dataset.build import Dataset
from vsexp.representations import dmdt, sequences

log = logging.getLogger(__name__)

INPUT_KINDS = ("sequence", "dmdt", "features")


@dataclasses.dataclass(frozen=True)
class Transform:
    """Fitted preprocessing: raw curves -> model inputs.

    Attributes:
        sequence_config / sequence_stats: padded-sequence settings and training statistics.
        dmdt_bins: the dm-dt grid chosen on the training split.
    """

    sequence_config: SequenceConfig
    sequence_stats: sequences.SequenceStats
    dmdt_bins: dmdt.DmdtBins

    def sequences(self, curves) -> np.ndarray:
        """[n, length, channels] float32 from [(times, mags, errors), ...]."""
        return sequences.pad_sequences(curves, self.sequence_config, self.sequence_stats)

    def dmdt(self, curves, progress=None) -> np.ndarray:
        """[n, n_dm, n_dt] uint8 Mahabal-normalised images from [(times, mags, errors), ...]."""
        return dmdt.dmdt_images(curves, self.dmdt_bins, progress=progress)

    def inputs(self, kind: str, curves) -> np.ndarray:
        if kind == "sequence":
            return self.sequences(curves)
        if kind == "dmdt":
            return self.dmdt(curves)
        if kind == "features":
            from vsexp.representations.features import extract_features

            return extract_features(curves)
        raise ValueError(f"unknown input kind '{kind}' (allowed: {', '.join(INPUT_KINDS)})")

    def to_dict(self) -> dict:
        return {"sequence_config": dataclasses.asdict(self.sequence_config),
                "sequence_stats": self.sequence_stats.to_dict(), "dmdt_bins": self.dmdt_bins.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "Transform":
        return cls(SequenceConfig(**data["sequence_config"]), sequences.SequenceStats.from_dict(data["sequence_stats"]),
                   dmdt.DmdtBins.from_dict(data["dmdt_bins"]))

    def key(self, kind: str) -> str:
        part = {"sequence": {k: v for k, v in self.to_dict().items() if k != "dmdt_bins"},
                "dmdt": self.to_dict()["dmdt_bins"], "features": {"version": 1}}[kind]
        return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()[:12]


def curve_triples(table) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """[(times, mags, errors), ...] from a dataset table (rows in order)."""
    return [(np.asarray(t), np.asarray(m), np.asarray(e)) for t, m, e in zip(table["times"], table["mags"], table["errors"])]


def fit_transform(dataset: Dataset, sequence_config: SequenceConfig, dmdt_config: DmdtConfig) -> Transform:
    """Fit sequence statistics and dm-dt bins on the training split only."""
    train = curve_triples(dataset.split("train"))
    return Transform(sequence_config, sequences.fit_stats(train, sequence_config),
                     dmdt.choose_bins(train, dmdt_config, seed=dataset.manifest["seed"]))


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
        path = self.folder / f"{kind}-{self.transform.key(kind)}.npy"
        if path.exists():
            return np.load(path, mmap_mode="r")
        curves = curve_triples(self.dataset.table)
        with tqdm(total=len(curves), desc=f"{kind} inputs", unit="curve", disable=None) as progress:
            if kind == "dmdt":
                values = self.transform.dmdt(curves, progress=progress)
            else:
                values = self.transform.inputs(kind, curves)
                progress.update(len(curves))
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".partial.npy")
        np.save(temporary, values)
        temporary.replace(path)  # atomic: an interrupted build leaves no half-written cache
        log.info("cached %s inputs %s at %s", kind, values.shape, path)
        return values

    def inputs(self, kind: str, split: str) -> np.ndarray:
        mask = (self.dataset.table["split"] == split).to_numpy()
        return np.asarray(self.array(kind)[mask])

    def describe(self) -> dict:
        return {"transform": self.transform.to_dict(), "folder": str(self.folder),
                "cached": sorted(p.name for p in self.folder.glob("*.npy")) if self.folder.exists() else []}


def build_representations(dataset: Dataset, sequence_config: SequenceConfig, dmdt_config: DmdtConfig,
                          kinds=("sequence", "dmdt")) -> Representations:
    """Fit (or load) the transform and compute (or load) the inputs of ``kinds``."""
    folder = dataset.path / "representations"
    transform_key = hashlib.sha256(json.dumps([dataclasses.asdict(sequence_config), dataclasses.asdict(dmdt_config)],
                                              sort_keys=True).encode()).hexdigest()[:12]
    transform_path = folder / f"transform-{transform_key}.json"
    if transform_path.exists():
        transform = Transform.from_dict(json.loads(transform_path.read_text()))
    else:
        transform = fit_transform(dataset, sequence_config, dmdt_config)
        folder.mkdir(parents=True, exist_ok=True)
        transform_path.write_text(json.dumps(transform.to_dict()))
    representations = Representations(dataset, transform, folder)
    for kind in kinds:
        representations.array(kind)
    return representations
