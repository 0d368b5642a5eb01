"""The settings every model shares, one frozen dataclass per concern (data, sequences, dm-dt maps,
features, fitting, augmentation), and the cheap checks the command line runs before any heavy import.

A model family's own config lives in its folder (``vsexp/models/<family>/config.py``); the whole
run's config and its serializer in ``vsexp.train_config``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from vsexp.errors import ConfigError, DatasetError

from vsexp.lightcurves.classes import CLASS_SETS, OTHER


# The allowed values of the entry points' own parameters, here so that the CLI refuses a bad one
# before any heavy import; the steps check them too.
SPLITS = ("train", "validation", "test")
SYNTHETIC_SIZES = ("tiny", "small", "medium", "paper")  # the simulator's size presets
EVALUATION_SPLITS = (*SPLITS[::-1], "all")
PROMOTION_METRICS = ("macro_f1", "weighted_f1", "accuracy", "balanced_accuracy")
COMBINATION_METHODS = ("average", "stacking")
SPARSITY_MODES = ("random", "seasons")
SEARCH_BACKENDS = ("optuna", "keras-tuner")
PRUNERS = ("median", "hyperband", "none", "threshold:NUMBER")
ENGINES = ("local", "spark")  # where predict scores


def check_choices(name: str, values, allowed) -> None:
    """Raise ``ConfigError`` naming ``name`` when any of ``values`` is not in ``allowed`` (or none is given)."""
    values = [values] if isinstance(values, str) else list(values)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ConfigError(f"unknown {name} {', '.join(map(repr, unknown)) or '(none given)'} "
                          f"(allowed: {', '.join(allowed)})")


def check_pruner(spec: str) -> None:
    """``median``, ``hyperband``, ``none`` or ``threshold:X`` with X a number."""
    kind, _, value = spec.partition(":")
    if spec in PRUNERS[:3] or (kind == "threshold" and _is_number(value)):
        return
    raise ConfigError(f"unknown pruner '{spec}' (allowed: {', '.join(PRUNERS)})")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_class_map(text: str) -> dict[str, str]:
    """``"RRab=RRL,EW=ECLP"`` -> {"RRab": "RRL", "EW": "ECLP"} (data class -> model class)."""
    mapping = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        source, sep, target = item.partition("=")
        if not sep or not source or not target:
            raise ConfigError(f"class map entries look like DATA_CLASS=MODEL_CLASS, got '{item}'")
        mapping[source.strip()] = target.strip()
    return mapping


def comma_separated(text: str) -> tuple[str, ...]:
    """The non-empty, stripped items of a comma-separated setting (``"a, b,"`` -> ``("a", "b")``)."""
    return tuple(item.strip() for item in str(text).split(",") if item.strip())


def parse_source(source: str) -> tuple[str, str | None]:
    """Check a data source cheaply (before any heavy import) and split it:
    ``crts:DIR`` -> (``crts``, DIR); ``synthetic-ogle`` -> (``synthetic-ogle``, None); a bare path -> (``auto``, path)."""
    if source.startswith("synthetic-"):
        survey = source.removeprefix("synthetic-")
        if survey not in CLASS_SETS:
            raise DatasetError(f"unknown synthetic source '{source}' (allowed: {', '.join('synthetic-' + s for s in CLASS_SETS)})")
        return source, None
    kind, sep, location = source.partition(":")
    if sep and kind in ("ogle", "crts", "generic"):
        path = location
    else:
        kind, path = "auto", source
    if not Path(path).exists():
        raise DatasetError(f"data source '{source}': path '{path}' does not exist")
    return kind, path


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Which light curves, which classes, and how they are split.

    Attributes:
        source: ``synthetic-ogle``, ``synthetic-crts``, ``ogle:DIR``, ``crts:DIR``, ``generic:PATH``
            or a bare path (its layout is detected).
        size: synthetic size preset (``tiny``, ``small``, ``medium``, ``paper``); ignored for files.
        class_set: ``ogle`` or ``crts`` (the paper's classes) or a comma-separated list of names.
        min_points: light curves with fewer valid points are rejected (the paper keeps >= 100).
        other_class: every labelled star whose class is outside ``class_set`` becomes class
            ``Other`` instead of being left out (a classifier that can say "none of these").
        seed: seeds the simulator and the split.
        train_fraction / validation_fraction: the rest is the test split (paper: 0.6 / 0.2 / 0.2).
    """

    source: str = "synthetic-ogle"
    size: str = "small"
    class_set: str = "auto"
    min_points: int = 100
    other_class: bool = False
    seed: int = 42
    train_fraction: float = 0.6
    validation_fraction: float = 0.2

    def __post_init__(self):
        check_choices("data.size", self.size, SYNTHETIC_SIZES)
        if self.min_points < 2:
            raise ConfigError(f"data.min_points must be >= 2, got {self.min_points}")
        if self.other_class and self.class_set in ("all", "generic"):
            raise ConfigError(f"data.other_class needs a class set to be 'other' than, got data.class_set={self.class_set}")
        if not (0 < self.train_fraction < 1 and 0 < self.validation_fraction < 1
                and self.train_fraction + self.validation_fraction < 1):
            raise ConfigError(
                f"data.train_fraction ({self.train_fraction}) and data.validation_fraction "
                f"({self.validation_fraction}) must be in (0, 1) and sum to less than 1"
            )

    @property
    def survey(self) -> str:
        """``ogle`` or ``crts`` when the source says so, else ``generic``."""
        for survey in CLASS_SETS:
            if survey in self.source.split(":", 1)[0]:
                return survey
        return "generic"

    @property
    def survey_name(self) -> str:
        """Names real and synthetic data apart: ``crts``, ``synthetic-crts``, ``ogle``, ``generic``..."""
        return self.source if self.source.startswith("synthetic-") else self.survey

    def classes(self) -> tuple[str, ...] | None:
        """The selected class names, or None to keep every label."""
        name = self.survey if self.class_set == "auto" else self.class_set
        if name in ("all", "generic"):
            return None
        named = CLASS_SETS[name] if name in CLASS_SETS else comma_separated(name)
        return (*named, OTHER) if self.other_class and OTHER not in named else named


SEQUENCE_CHANNELS = ("mag", "mag_centred", "dt", "dmag", "phase", "log_period")
SEQUENCE_ORDERS = ("time", "phase")
DMDT_NORMALISATIONS = ("mahabal", "column")


@dataclasses.dataclass(frozen=True)
class SequenceConfig:
    """Padded light-curve sequences (paper section 2.2).

    Attributes:
        length: points kept per curve; shorter curves are zero-padded at the end (paper: 359 OGLE,
            546 CRTS), longer ones clipped.
        channels: comma-separated, from ``mag`` (the paper: the raw magnitudes), ``mag_centred``
            (magnitudes minus the curve's median: the shape without the star's brightness), ``dt``
            (log10 time step to the previous point) and ``dmag`` (magnitude change from it); e.g.
            ``mag`` or ``dt,dmag`` or ``mag_centred,dt``; ``phase`` is each point's phase at the
            curve's period (0 at its brightest), ``log_period`` that period (constant along the
            curve). A mask channel (1 = real point) is appended when ``mask`` is true.
        mask: append the padding mask as a channel.
        order: ``time`` (the paper) or ``phase``: the kept points sorted by their phase at the
            curve's period (from the feature extractor; time order where it has none), so a
            period shorter than the cadence shows as a shape rather than as scatter; ``dmag`` is
            then the step along the folded curve, and ``dt`` is refused.
    """

    length: int = 359
    channels: str = "mag"
    mask: bool = False
    order: str = "time"

    def __post_init__(self):
        if self.length < 8:
            raise ConfigError(f"sequence.length must be >= 8, got {self.length}")
        names = self.channel_names
        unknown = [name for name in names if name not in SEQUENCE_CHANNELS]
        if not names or unknown or len(set(names)) != len(names):
            raise ConfigError(f"sequence.channels must be distinct names from {', '.join(SEQUENCE_CHANNELS)}, "
                              f"comma-separated; got '{self.channels}'")
        if self.order not in SEQUENCE_ORDERS:
            raise ConfigError(f"sequence.order must be one of {', '.join(SEQUENCE_ORDERS)}, got '{self.order}'")
        if self.order == "phase" and "dt" in names:
            raise ConfigError("the 'dt' channel has no meaning in phase order (points from different cycles); "
                              "use 'phase' or 'dmag'")

    @property
    def channel_names(self) -> tuple[str, ...]:
        return comma_separated(self.channels)

    @property
    def needs_period(self) -> bool:
        """Whether the sequences need each curve's period (and so its features)."""
        return self.order == "phase" or bool({"phase", "log_period"} & set(self.channel_names))


@dataclasses.dataclass(frozen=True)
class DmdtConfig:
    """dm-dt histograms (paper section 2.1, Mahabal et al. 2017).

    Attributes:
        binning: ``fd`` (the paper: Freedman-Diaconis bin counts per training curve, median over
            the training split, log-spaced dt and linear dm edges over the training range) or
            ``mahabal`` (Mahabal et al.'s fixed 22 x 23 edges).
        max_dm_bins / max_dt_bins: upper bounds on the FD counts. FD over all pairs of a curve
            gives ~110-150 dm and ~180-220 dt bins on these surveys; the defaults cap them at the
            paper's 90 x 53 grid (the uncapped medians are recorded with the bins).
        fd_sample: training curves used to choose FD bins (a seeded sample for large splits).
        dt_low_quantile: where the FD dt range starts: the median over training curves of this
            quantile of each curve's positive pair dt. 0 (default) starts at the closest pair, so
            the short-dt pairs that carry the period of short-period stars stay in the map; the
            earlier default 0.005 started at ~4 days on synthetic OGLE and cut them all.
        normalisation: ``mahabal`` (the paper: counts / the curve's pairs, scaled to 0-255) or
            ``column`` (counts / the pairs in the same dt column).
        phase_channel: add a second image channel, the dm-dphase map: the same pairs binned by
            their phase difference at the curve's period (as many uniform phase bins as dt bins;
            periods from the feature extractor, an empty map where there is none).
    """

    binning: str = "fd"
    max_dm_bins: int = 90
    max_dt_bins: int = 53
    fd_sample: int = 2000
    dt_low_quantile: float = 0.0
    normalisation: str = "mahabal"
    phase_channel: bool = False

    def __post_init__(self):
        if self.binning not in ("fd", "mahabal"):
            raise ConfigError(f"dmdt.binning must be 'fd' or 'mahabal', got '{self.binning}'")
        if self.max_dm_bins < 2 or self.max_dt_bins < 2:
            raise ConfigError(f"dmdt.max_dm_bins and dmdt.max_dt_bins must be >= 2, got {self.max_dm_bins}, {self.max_dt_bins}")
        if self.normalisation not in DMDT_NORMALISATIONS:
            raise ConfigError(f"dmdt.normalisation must be 'mahabal' or 'column', got '{self.normalisation}'")
        if not 0 <= self.dt_low_quantile < 0.5:
            raise ConfigError(f"dmdt.dt_low_quantile must be in [0, 0.5), got {self.dt_low_quantile}")




@dataclasses.dataclass(frozen=True)
class FitConfig:
    """How a Keras model is fitted (the paper: Adam 2e-4, batch 32, class weights).

    Attributes:
        epochs: maximum epochs; early stopping on ``monitor`` may end sooner.
        patience: epochs without improvement of ``monitor`` before stopping (0 = never stop early).
        monitor: validation metric for early stopping and checkpoints.
        class_weights: ``balanced`` (n / (k * n_c) from the training split) or ``none``.
        mixed_precision: ``auto`` turns it on when a GPU is present.
    """

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-4
    patience: int = 8
    monitor: str = "val_macro_f1"
    class_weights: str = "balanced"
    mixed_precision: str = "auto"
    seed: int = 42

    def __post_init__(self):
        if self.epochs < 1:
            raise ConfigError(f"fit.epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"fit.batch_size must be >= 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise ConfigError(f"fit.learning_rate must be > 0, got {self.learning_rate}")
        if self.class_weights not in ("balanced", "none"):
            raise ConfigError(f"fit.class_weights must be 'balanced' or 'none', got '{self.class_weights}'")
        if self.mixed_precision not in ("auto", "on", "off"):
            raise ConfigError(f"fit.mixed_precision must be auto, on or off, got '{self.mixed_precision}'")
        if self.monitor not in ("val_macro_f1", "val_loss", "val_accuracy"):
            raise ConfigError(f"fit.monitor must be val_macro_f1, val_loss or val_accuracy, got '{self.monitor}'")


@dataclasses.dataclass(frozen=True)
class UnknownConfig:
    """When a served model answers ``unknown`` rather than a class.

    Attributes:
        rate: the share of the validation split's stars of the named classes (every class but
            ``Other``) that the model may call ``unknown``; 0 (the default) never does. The model's
            probabilities are calibrated by a temperature fitted on the validation split (log loss),
            and the threshold is that quantile of the validation stars' calibrated top probability:
            a star whose calibrated top probability is lower is ``unknown``. Both are fitted on the
            validation split (so a refit on train + validation cannot have them) and travel with the
            served model.
    """

    rate: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.rate < 1.0:
            raise ConfigError(f"unknown.rate must be in [0, 1), got {self.rate}")


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Training-set augmentation: thinned copies of the stars a model is fitted on.

    A survey observes the same kind of star with more or fewer epochs; a thinned copy (a random
    subset of a star's points, in time order) is the same star seen more sparsely. Copies are made of
    the fitted splits only, never of the stars a model is scored on.

    Attributes:
        copies: thinned copies of each fitted star (0 = no augmentation).
        keep_min / keep_max: each copy keeps a fraction of its star's points drawn uniformly from
            this range, and never fewer than ``data.min_points`` (a star with no more than that
            many points is copied whole; such copies are counted).
        seed: seeds which points each copy keeps.
    """

    copies: int = 0
    keep_min: float = 0.5
    keep_max: float = 0.9
    seed: int = 0

    def __post_init__(self):
        if self.copies < 0:
            raise ConfigError(f"augment.copies must be >= 0, got {self.copies}")
        if not 0 < self.keep_min <= self.keep_max <= 1:
            raise ConfigError(f"augment.keep_min ({self.keep_min}) and augment.keep_max ({self.keep_max}) must "
                              f"satisfy 0 < keep_min <= keep_max <= 1")
