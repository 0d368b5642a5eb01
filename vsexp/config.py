"""Typed configs: one frozen dataclass per concern, presets as functions, flat <-> nested for MLflow.

``TrainConfig(data=DataConfig(...), model=CnnLstmConfig(...), ...)`` is what a training run
takes. ``to_flat`` gives ``{"data.source": ..., "model.filters": "32,64"...}`` for
``mlflow.log_params``; ``from_flat`` rebuilds the same object from it. Presets live in
``experiments/presets.py``; ``with_overrides`` applies ``key=value`` strings from the command line
and rejects unknown keys with the list of allowed ones.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

from pathlib import Path

from vsexp.errors import ConfigError, DatasetError

# The paper's class sets; catalogue names are mapped onto them by CLASS_ALIASES.
CLASS_SETS = {
    "ogle": ("CEPH", "DSCT", "ECLP", "LPV", "RRL"),
    "crts": ("EW", "EA", "RRab", "RRc", "RRd", "RSCVn", "LPV"),
}
CLASS_ALIASES = {"RS_CVn": "RSCVn", "RRC": "RRc", "RRD": "RRd", "RRAB": "RRab", "CEP": "CEPH", "ECL": "ECLP", "RRLYR": "RRL"}


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
        seed: seeds the simulator and the split.
        train_fraction / validation_fraction: the rest is the test split (paper: 0.6 / 0.2 / 0.2).
    """

    source: str = "synthetic-ogle"
    size: str = "small"
    class_set: str = "auto"
    min_points: int = 100
    seed: int = 42
    train_fraction: float = 0.6
    validation_fraction: float = 0.2

    def __post_init__(self):
        check_choices("data.size", self.size, SYNTHETIC_SIZES)
        if self.min_points < 2:
            raise ConfigError(f"data.min_points must be >= 2, got {self.min_points}")
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
        if name in CLASS_SETS:
            return CLASS_SETS[name]
        if name in ("all", "generic"):
            return None
        return comma_separated(name)


SEQUENCE_CHANNELS = ("mag", "mag_centred", "dt", "dmag", "phase", "log_period")
SEQUENCE_ORDERS = ("time", "phase")
DMDT_NORMALISATIONS = ("mahabal", "column")
FOREST_KINDS = ("random", "boosted")
FEATURE_GROUPS = ("statistics", "periodogram", "harmonic", "second_period")  # see vsexp.representations.features


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
class CnnLstmConfig:
    """The paper's 1D CNN-LSTM (Fig. 4); see ``vsexp.models.cnn_lstm``."""

    name: str = "lstm"
    filters: tuple[int, ...] = (32, 32, 64, 64)
    kernels: tuple[int, ...] = (3, 3, 5, 5)
    pool_after: tuple[int, ...] = (2, 4)  # 1-based conv indices followed by MaxPooling1D(2)
    lstm_units: tuple[int, ...] = (32, 64)
    dense_units: tuple[int, ...] = (1024, 512)
    dropout_rate: float = 0.2

    def __post_init__(self):
        if len(self.filters) != len(self.kernels) or not self.filters:
            raise ConfigError(f"model.filters {self.filters} and model.kernels {self.kernels} must be non-empty and of equal length")


@dataclasses.dataclass(frozen=True)
class Cnn2dConfig:
    """Mahabal et al. (2017) 2D CNN on dm-dt images; see ``vsexp.models.cnn2d``."""

    name: str = "cnn"
    filters: tuple[int, ...] = (16, 32, 64)
    kernels: tuple[int, ...] = (3, 5, 5)
    pool_after: tuple[int, ...] = (1, 2, 3)  # pooling after each conv: ~10x fewer operations on CPU
    dense_units: tuple[int, ...] = (512, 64)
    dropout_rate: float = 0.3

    def __post_init__(self):
        if len(self.filters) != len(self.kernels) or not self.filters:
            raise ConfigError(f"model.filters {self.filters} and model.kernels {self.kernels} must be non-empty and of equal length")


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



BRANCHES = ("folded", "features", "dmdt", "sequence")


@dataclasses.dataclass(frozen=True)
class MultiConfig:
    """A network with one branch per input, merged before the classifier; see ``vsexp.models.multi``.

    ``branches`` picks the inputs (comma-separated): ``folded`` (the curve folded at its period),
    ``features`` (the scaled feature vector), ``dmdt`` (the dm-dt map), ``sequence`` (the padded
    raw curve). ``sequence,dmdt`` is the paper's proposed two-branch model; ``folded,features`` the
    period-aware one.
    """

    name: str = "multi"
    branches: str = "folded,features"
    folded_filters: tuple[int, ...] = (32, 64, 64)
    folded_kernels: tuple[int, ...] = (5, 5, 3)
    feature_units: tuple[int, ...] = (128, 64)
    dmdt_filters: tuple[int, ...] = (16, 32, 64)
    dmdt_kernels: tuple[int, ...] = (3, 5, 5)
    sequence_filters: tuple[int, ...] = (16, 16, 32, 32)
    sequence_kernels: tuple[int, ...] = (3, 3, 5, 5)
    lstm_units: tuple[int, ...] = (32,)
    dense_units: tuple[int, ...] = (256, 128)
    dropout_rate: float = 0.3

    def __post_init__(self):
        unknown = set(self.branch_list) - set(BRANCHES)
        if unknown or not self.branch_list:
            raise ConfigError(f"model.branches must be a comma-separated subset of {', '.join(BRANCHES)}, "
                              f"got '{self.branches}'")
        for prefix in ("folded", "dmdt", "sequence"):
            if len(getattr(self, f"{prefix}_filters")) != len(getattr(self, f"{prefix}_kernels")):
                raise ConfigError(f"model.{prefix}_filters and model.{prefix}_kernels must be of equal length")

    @property
    def branch_list(self) -> tuple[str, ...]:
        return comma_separated(self.branches)


ModelConfig = CnnLstmConfig | Cnn2dConfig | ForestConfig | MultiConfig
MODEL_CONFIGS = {"lstm": CnnLstmConfig, "cnn": Cnn2dConfig, "baseline": ForestConfig, "multi": MultiConfig}


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


FEATURES_VERSION = 2  # what the feature extractor computes by default; models record theirs (see cache.Transform)
FEATURE_VERSIONS = (1, 2, 3)
MAX_FREQUENCY = 25.0  # cycles/day, the periodograms' default ceiling: covers delta Scuti and half-period contact binaries
MAX_FREQUENCY_RANGE = (0.1, 100.0)  # the ceilings the feature extractor accepts


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
    """

    version: int = FEATURES_VERSION
    max_frequency: float = MAX_FREQUENCY
    single_precision: bool = False

    def __post_init__(self):
        if self.version not in FEATURE_VERSIONS:
            raise ConfigError(f"features.version must be one of {', '.join(map(str, FEATURE_VERSIONS))}, "
                              f"got {self.version}")
        low, high = MAX_FREQUENCY_RANGE
        if not low <= self.max_frequency <= high:
            raise ConfigError(f"features.max_frequency must be in [{low}, {high}] cycles/day, got {self.max_frequency}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs."""

    data: DataConfig = DataConfig()
    model: ModelConfig = CnnLstmConfig()
    fit: FitConfig = FitConfig()
    sequence: SequenceConfig = SequenceConfig()
    dmdt: DmdtConfig = DmdtConfig()
    augment: AugmentConfig = AugmentConfig()
    features: FeatureConfig = FeatureConfig()
    preset: str = "custom"


def _encode(value) -> Any:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return value


def to_flat(config) -> dict[str, Any]:
    """``TrainConfig`` -> ``{"data.source": ..., "model.filters": "32,64", ...}``."""
    flat = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            flat.update({f"{field.name}.{k}": v for k, v in to_flat(value).items()})
        else:
            flat[field.name] = _encode(value)
    return flat


def _decode(text, annotation, where: str):
    """Parse a flat value (a string from the command line or MLflow) into the field's type."""
    origin = typing.get_origin(annotation)
    if annotation in ("tuple[int, ...]",) or origin is tuple:
        if isinstance(text, tuple):
            return text
        try:
            return tuple(int(v) for v in str(text).split(",") if v.strip())
        except ValueError:
            raise ConfigError(f"{where}: expected comma-separated integers, got '{text}'") from None
    for kind in (bool, int, float):
        if annotation in (kind, kind.__name__):
            if isinstance(text, kind) and not (kind is int and isinstance(text, bool)):
                return text
            if kind is bool:
                if str(text).lower() in ("true", "1", "yes"):
                    return True
                if str(text).lower() in ("false", "0", "no"):
                    return False
                raise ConfigError(f"{where}: expected true or false, got '{text}'")
            try:
                return kind(text)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: expected {kind.__name__}, got '{text}'") from None
    return str(text)


def _section_type(config_type, name: str, flat: dict):
    """The dataclass type of a nested field; ``model`` is chosen by ``model.name``."""
    if name == "model":
        model_name = flat.get("model.name", CnnLstmConfig.name)
        if model_name not in MODEL_CONFIGS:
            raise ConfigError(f"unknown model '{model_name}' (allowed: {', '.join(MODEL_CONFIGS)})")
        return MODEL_CONFIGS[model_name]
    return typing.get_type_hints(config_type)[name]


def from_flat(flat: dict[str, Any], config_type=TrainConfig, prefix: str = ""):
    """Rebuild a config from ``to_flat`` output (values may be strings, as MLflow stores them);
    ``prefix``: the section's own key, so that an error names the full key (``features.version``)."""
    hints = typing.get_type_hints(config_type)
    kwargs = {}
    for field in dataclasses.fields(config_type):
        if dataclasses.is_dataclass(field.default) or field.name == "model":
            section = _section_type(config_type, field.name, flat)
            key = f"{field.name}."
            sub = {k[len(key):]: v for k, v in flat.items() if k.startswith(key)}
            kwargs[field.name] = from_flat(sub, section, prefix + key)
        elif field.name in flat:
            kwargs[field.name] = _decode(flat[field.name], hints[field.name], prefix + field.name)
    return config_type(**kwargs)


def with_overrides(config, overrides: dict[str, Any]):
    """Return ``config`` with flat ``key=value`` overrides applied; unknown keys are refused."""
    flat = to_flat(config)
    if "model.name" in overrides and overrides["model.name"] != flat.get("model.name"):
        flat = {k: v for k, v in flat.items() if not k.startswith("model.")}
    unknown = sorted(set(overrides) - set(flat) - {"model.name"} - set(_model_keys(overrides, flat)))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(flat))}")
    flat.update(overrides)
    return from_flat(flat, type(config))


def _model_keys(overrides, flat):
    name = overrides.get("model.name", flat.get("model.name"))
    if name not in MODEL_CONFIGS:
        return []
    return [f"model.{f.name}" for f in dataclasses.fields(MODEL_CONFIGS[name])]


def save_json(config, path) -> None:
    with open(path, "w") as handle:
        json.dump(to_flat(config), handle, indent=2, sort_keys=True)


def load_json(path, config_type=TrainConfig):
    with open(path) as handle:
        return from_flat(json.load(handle), config_type)
