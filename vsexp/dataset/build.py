"""Build a dataset: read or simulate -> validate -> select classes -> split by star -> store.

A dataset lives in ``<cache>/datasets/<name>-<key>/``:

- ``lightcurves.parquet``: one row per star — ``object_id, label, split, survey, n_points,
  times, mags, errors`` (ragged ``list<double>`` columns) and ``metadata`` (JSON text).
- ``manifest.json``: the source, the config, counts per class and split, the rejection report,
  the seed and the content hash of the Parquet file.

``key`` hashes everything that determines the result (the config, a fingerprint of the source
files, the format version), so building again with the same inputs reuses the stored dataset.
Representations computed from a dataset are cached beside it (see ``vsexp.representations``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from vsexp.console import tracked
from vsexp.config import SPLITS, DataConfig, parse_source  # noqa: F401  (re-exported)
from vsexp.errors import DatasetError, LightCurveError
from vsexp.lightcurves import simulator
from vsexp.lightcurves.classes import CLASS_ALIASES, OTHER
from vsexp.lightcurves.readers import iter_folder, list_light_curve_files
from vsexp.lightcurves.record import LightCurve, RejectionReport, clean

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MIN_STARS_PER_CLASS = 5  # fewer cannot be split 60/20/20 with every split represented


def replace_atomically(path: Path, write) -> None:
    """Write via ``write(temporary_path)`` then rename into place.

    The temporary name is unique per process, so concurrent workers building the same cache never
    see, or rename, one another's half-written files; the last complete file wins. It ends with the
    file's own name, so a writer that checks the suffix (Keras' ``.weights.h5``) accepts it.
    """
    temporary = path.with_name(f".partial-{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        write(temporary)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def cache_root() -> Path:
    """Where datasets and representations are stored (``VSEXP_CACHE_DIR``, default ``./cache``)."""
    return Path(os.environ.get("VSEXP_CACHE_DIR", "cache")).resolve()


@dataclasses.dataclass
class Dataset:
    """A stored dataset: the star table (ragged light curves) and its manifest."""

    path: Path
    table: pd.DataFrame
    manifest: dict

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    def split(self, name: str) -> pd.DataFrame:
        if name not in SPLITS:
            raise DatasetError(f"unknown split '{name}' (allowed: {', '.join(SPLITS)})")
        return self.table[self.table["split"] == name]

    def labels(self, split: str) -> np.ndarray:
        """[n] integer class indices of a split, in ``classes`` order."""
        return self.labels_of(self.split(split))

    def labels_of(self, rows: pd.DataFrame) -> np.ndarray:
        """[n] integer class indices of ``rows`` of this dataset's table, in ``classes`` order."""
        index = {name: i for i, name in enumerate(self.classes)}
        return rows["label"].map(index).to_numpy(dtype=np.int64)

    def curves(self, split: str | None = None) -> list[LightCurve]:
        return self.curves_from(self.table if split is None else self.split(split))

    @staticmethod
    def curves_from(table: pd.DataFrame) -> list[LightCurve]:
        """``LightCurve`` objects for the rows of a dataset table."""
        return [
            LightCurve(object_id=row.object_id, times=np.asarray(row.times), mags=np.asarray(row.mags),
                       errors=np.asarray(row.errors), label=row.label, survey=row.survey)
            for row in table.itertuples(index=False)
        ]


def _source_fingerprint(config: DataConfig) -> dict:
    kind, path = parse_source(config.source)
    if path is None:
        return {"kind": kind, "size": config.size}
    root = Path(path).resolve()
    files = [root] if root.is_file() else [p for p in sorted(root.rglob("*")) if p.is_file()]
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        digest.update(f"{file.relative_to(root.parent)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return {"kind": kind, "path": str(root), "files": len(files), "listing": digest.hexdigest()}


def dataset_key(config: DataConfig) -> str:
    settings = dataclasses.asdict(config)
    if not config.other_class:  # a setting added later, left out at its default: earlier datasets keep their names
        del settings["other_class"]
    payload = {"config": settings, "source": _source_fingerprint(config), "format": FORMAT_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def dataset_name(config: DataConfig) -> str:
    kind, path = parse_source(config.source)
    stem = kind if path is None else f"{kind}-{Path(path).resolve().name}"
    if path is None:
        stem += f"-{config.size}"
    return f"{stem}-{dataset_key(config)}"


def iter_source(config: DataConfig):
    """Yield LightCurve or LightCurveError for every item of the source, validated."""
    kind, path = parse_source(config.source)
    if path is None:
        for curve in simulator.simulate_survey(kind.removeprefix("synthetic-"), config.size, config.seed,
                                               workers=min(os.cpu_count() or 1, 4)):
            try:
                yield clean(curve.object_id, curve.times, curve.mags, curve.errors, min_points=config.min_points,
                            label=curve.label, survey=curve.survey, metadata=curve.metadata)
            except LightCurveError as error:
                yield error
        return
    if Path(path).is_file():
        yield from _iter_long_table(Path(path), config.min_points)
        return
    fmt = "auto" if kind in ("auto", "generic") else kind
    yield from iter_folder(path, fmt, min_points=config.min_points, require_labels=True)


def read_labelled(config: DataConfig, classes, *, relabel=None, reason: str = "class_not_selected",
                  among: str = "the selected classes") -> tuple[list, RejectionReport]:
    """Every valid curve of the source with its class: catalogue aliases resolved (``CLASS_ALIASES``),
    then ``relabel`` (another survey's names onto a model's), kept when in ``classes`` (None keeps
    every class); with ``config.other_class`` a class outside them becomes ``Other``. Returns
    [(LightCurve, class), ...] and the report that counts the rest by reason (invalid curves by what
    was wrong, the others as ``reason``)."""
    report, kept = RejectionReport(), []
    with tracked(iter_source(config), _expected_count(config), f"reading {config.source}", logger=log) as items:
        for item in items:
            if isinstance(item, LightCurveError):
                report.reject(item)
                continue
            label = CLASS_ALIASES.get(item.label, item.label)
            label = relabel.get(label, label) if relabel else label
            if classes is not None and label not in classes and config.other_class:
                label = OTHER
            elif classes is not None and label not in classes:
                report.reject(LightCurveError(item.object_id, reason,
                                              f"label '{item.label}' is not among {among} {list(classes)}"))
                continue
            report.accept(item)
            kept.append((item, label))
    return kept, report


def _iter_long_table(path: Path, min_points: int):
    """A generic long table (``id, time, mag, err, label``), one row per observation."""
    frame = pd.read_parquet(path) if path.name.endswith(".parquet") else pd.read_csv(path)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = {"id", "time", "mag", "err"} - set(frame.columns)
    if missing:
        raise DatasetError(f"{path}: long table lacks column(s) {sorted(missing)}; needs id, time, mag, err (+ label)")
    if "label" not in frame.columns:
        raise DatasetError(f"{path}: a dataset needs a 'label' column")
    for object_id, rows in frame.groupby("id", sort=True):
        labels = rows["label"].dropna().unique()
        where = f"{path}[id={object_id}]"
        if len(labels) != 1:
            yield LightCurveError(where, "unlabelled" if not len(labels) else "conflicting_labels",
                                  f"{len(labels)} distinct labels {list(labels)}")
            continue
        try:
            yield clean(str(object_id), rows["time"], rows["mag"], rows["err"], min_points=min_points,
                        source=where, label=str(labels[0]), survey="generic")
        except LightCurveError as error:
            yield error


def _split_by_star(frame: pd.DataFrame, config: DataConfig) -> pd.Series:
    """Stratified train/validation/test assignment per star id (a star never spans two splits)."""
    stars = frame.drop_duplicates("object_id")[["object_id", "label"]]
    test_fraction = 1.0 - config.train_fraction - config.validation_fraction
    rest, test = train_test_split(stars, test_size=test_fraction, stratify=stars["label"], random_state=config.seed)
    validation_share = config.validation_fraction / (config.train_fraction + config.validation_fraction)
    train, validation = train_test_split(rest, test_size=validation_share, stratify=rest["label"], random_state=config.seed)
    assignment = {**dict.fromkeys(train["object_id"], "train"), **dict.fromkeys(validation["object_id"], "validation"),
                  **dict.fromkeys(test["object_id"], "test")}
    return frame["object_id"].map(assignment)


def _content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_dataset(config: DataConfig, *, cache_dir: Path | None = None, rebuild: bool = False) -> Dataset:
    """Build (or reuse) the dataset ``config`` describes.

    Returns:
        The stored ``Dataset``; ``manifest["reused"]`` says whether it already existed.

    Raises:
        DatasetError: the source does not exist, yields no usable curve, or a selected class has
            too few stars to split.
    """
    root = (cache_dir or cache_root()) / "datasets" / dataset_name(config)
    if not rebuild and (root / "manifest.json").exists():
        log.info("reusing dataset %s", root)
        dataset = load_dataset(root)
        dataset.manifest["reused"] = True
        return dataset

    selected = config.classes()
    curves, report = read_labelled(config, selected)
    rows = [{"object_id": item.object_id, "label": label, "survey": item.survey, "n_points": len(item),
             "times": item.times, "mags": item.mags, "errors": item.errors,
             "metadata": json.dumps(item.metadata, sort_keys=True, default=str)} for item, label in curves]
    if not rows:
        raise DatasetError(f"data source '{config.source}': no usable light curve ({report.summary()})")
    frame = pd.DataFrame(rows)
    counts = frame.drop_duplicates("object_id")["label"].value_counts()
    too_small = counts[counts < MIN_STARS_PER_CLASS]
    if len(too_small):
        raise DatasetError(
            f"data source '{config.source}': class(es) {dict(too_small)} have fewer than {MIN_STARS_PER_CLASS} stars, "
            f"too few for a stratified split; choose classes with data.class_set"
        )
    classes = [c for c in (selected or sorted(counts.index)) if c in counts.index]
    missing = [c for c in (selected or []) if c not in counts.index]
    if len(classes) < 2:
        raise DatasetError(f"data source '{config.source}': only class(es) {classes} of data.class_set "
                           f"'{config.class_set}' found ({report.summary()}); a classifier needs two or more")
    frame["split"] = _split_by_star(frame, config)
    root.mkdir(parents=True, exist_ok=True)
    parquet = root / "lightcurves.parquet"
    replace_atomically(parquet, lambda target: frame.to_parquet(target, index=False))
    manifest = {
        "name": root.name,
        "source": config.source,
        "config": dataclasses.asdict(config),
        "source_fingerprint": _source_fingerprint(config),
        "classes": classes,
        "classes_without_stars": missing,
        "counts": {split: frame[frame["split"] == split]["label"].value_counts().reindex(classes, fill_value=0).to_dict()
                   for split in SPLITS},
        "stars": int(frame["object_id"].nunique()),
        "points_median": float(frame["n_points"].median()),
        "report": report.to_dict(),
        "seed": config.seed,
        "content_hash": _content_hash(parquet),
        "format_version": FORMAT_VERSION,
    }
    replace_atomically(root / "manifest.json", lambda target: target.write_text(json.dumps(manifest, indent=2)))
    log.info("built dataset %s: %d stars; %s", root, manifest["stars"], report.summary())
    dataset = Dataset(root, frame, manifest)
    dataset.manifest["reused"] = False
    return dataset


def _expected_count(config: DataConfig) -> int | None:
    kind, path = parse_source(config.source)
    if path is None:
        return sum(simulator.class_counts(kind.removeprefix("synthetic-"), config.size).values())
    return len(list_light_curve_files(Path(path))) if Path(path).is_dir() else None


def load_dataset(path) -> Dataset:
    """Load a stored dataset folder (or its manifest path)."""
    root = Path(path)
    if root.name == "manifest.json":
        root = root.parent
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise DatasetError(f"{root}: not a dataset folder (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    table = pd.read_parquet(root / "lightcurves.parquet")
    return Dataset(root, table, manifest)


def counts_table(dataset: Dataset) -> pd.DataFrame:
    """Stars per class (rows) and split (columns), with totals."""
    table = pd.DataFrame(dataset.manifest["counts"]).reindex(dataset.classes).fillna(0).astype(int)
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    return table


def describe(dataset: Dataset) -> str:
    report = dataset.manifest["report"]
    by_reason = ", ".join(f"{k}={v}" for k, v in sorted(report["rejected_by_reason"].items())) or "none"
    rows = ", ".join(f"{k}={v}" for k, v in sorted(report["row_counts"].items())) or "none"
    return (f"{dataset.manifest['name']}: {dataset.manifest['stars']} stars, {len(dataset.classes)} classes; "
            f"rejected {report['rejected']} ({by_reason}); rows changed: {rows}\n{counts_table(dataset).to_string()}")


__all__ = ["Dataset", "build_dataset", "load_dataset", "counts_table", "describe", "SPLITS", "cache_root"]
