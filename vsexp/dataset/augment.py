"""Thinned copies of a dataset's stars: training-set augmentation, stored like a dataset.

``thinned_copies(dataset, config, splits, min_points)`` gives a ``Dataset`` whose rows are
``config.copies`` copies of every star of ``splits``, each keeping a random subset of its points
(time order kept; id ``<star>#thin<k>``; split and label those of the star). It lives in
``<dataset>/augmented/thinned-<key>/`` (key = the parent's content hash, the config, the splits and
``min_points``), so its representations are computed once and cached beside it like the parent's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from vsexp.config import AugmentConfig
from vsexp.dataset.build import SPLITS, Dataset, load_dataset, replace_atomically
from vsexp.errors import ConfigError

log = logging.getLogger(__name__)

AUGMENT_VERSION = 1


def _folder(dataset: Dataset, config: AugmentConfig, splits, min_points: int) -> Path:
    key = hashlib.sha256(json.dumps([dataset.manifest["content_hash"], dataclasses.asdict(config), sorted(splits),
                                     min_points, AUGMENT_VERSION]).encode()).hexdigest()[:12]
    return dataset.path / "augmented" / f"thinned-{key}"


def thinned_copies(dataset: Dataset, config: AugmentConfig, splits=("train",), min_points: int = 100) -> Dataset:
    """Thinned copies of the stars of ``splits`` (built once, then loaded).

    Args:
        dataset: the stored dataset whose stars are copied.
        config: how many copies and how much of each star they keep.
        splits: the splits whose stars are copied (the ones a model is fitted on).
        min_points: no copy keeps fewer points (the dataset's ``data.min_points``).

    Returns:
        A ``Dataset`` of the copies; its manifest counts them and the copies left whole
        (``unchanged``: stars with too few points to thin).

    Raises:
        ConfigError: ``copies`` is 0 or a split is unknown.
    """
    if config.copies < 1:
        raise ConfigError(f"augment.copies must be >= 1 to make thinned copies, got {config.copies}")
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown:
        raise ConfigError(f"unknown split(s) {unknown} to augment (allowed: {', '.join(SPLITS)})")
    root = _folder(dataset, config, splits, min_points)
    if (root / "manifest.json").exists():
        return load_dataset(root)
    stars = dataset.table[dataset.table["split"].isin(splits)]
    rng = np.random.default_rng(config.seed)
    rows, unchanged = [], 0
    for copy in range(1, config.copies + 1):
        for star in stars.itertuples(index=False):
            points = len(star.times)
            kept = min(points, max(min_points, round(rng.uniform(config.keep_min, config.keep_max) * points)))
            unchanged += kept == points
            index = np.sort(rng.choice(points, kept, replace=False))
            rows.append({"object_id": f"{star.object_id}#thin{copy}", "label": star.label, "split": star.split,
                         "survey": star.survey, "n_points": kept, "times": np.asarray(star.times)[index],
                         "mags": np.asarray(star.mags)[index], "errors": np.asarray(star.errors)[index],
                         "metadata": json.dumps({"thinned_from": star.object_id, "copy": copy})})
    frame = pd.DataFrame(rows, columns=list(dataset.table.columns))
    root.mkdir(parents=True, exist_ok=True)
    replace_atomically(root / "lightcurves.parquet", lambda target: frame.to_parquet(target, index=False))
    digest = hashlib.sha256((root / "lightcurves.parquet").read_bytes()).hexdigest()
    manifest = {
        "name": f"{dataset.manifest['name']}-{root.name}", "parent": dataset.manifest["name"],
        "source": f"thinned copies of {dataset.manifest['name']} ({'+'.join(splits)})",
        "augment": dataclasses.asdict(config), "min_points": min_points, "classes": dataset.classes,
        "counts": {split: frame[frame["split"] == split]["label"].value_counts().reindex(dataset.classes, fill_value=0)
                   .to_dict() for split in SPLITS},
        "stars": int(len(stars)), "copies_made": int(len(frame)), "unchanged": int(unchanged),
        "points_median": float(frame["n_points"].median()), "seed": dataset.manifest["seed"],
        "content_hash": digest, "format_version": AUGMENT_VERSION,
    }
    replace_atomically(root / "manifest.json", lambda target: target.write_text(json.dumps(manifest, indent=2)))
    log.info("made %d thinned copies of %d stars (%d left whole: too few points to thin) in %s",
             len(frame), len(stars), unchanged, root)
    return Dataset(root, frame, manifest)
