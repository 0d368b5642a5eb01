"""Search spaces: ``experiments/search_spaces/<model>.toml`` -> suggestions -> a ``TrainConfig``.

A space maps flat config keys to a range::

    ["model.filters"]          # searched per layer: model.filters_1 ... model.filters_4
    layers = 4
    choices = [8, 16, 32, 64]
    ["fit.learning_rate"]
    low = 1e-4
    high = 3e-3
    log = true

``suggest_optuna`` (the one place that calls ``trial.suggest_*``) and ``suggest_keras_tuner`` turn a
space into the same flat parameters; ``config_from_params`` applies them to a base config.
"""

from __future__ import annotations

import dataclasses
import tomllib

from vsexp.config import TrainConfig, with_overrides
from vsexp.errors import ConfigError
from vsexp.presets import experiments_dir


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One searched value: ``choices``, or a ``low``-``high`` range (``log`` scale optional)."""

    name: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False

    def __post_init__(self):
        if self.choices is None and (self.low is None or self.high is None or not self.low < self.high):
            raise ConfigError(f"search dimension '{self.name}' needs choices or low < high")


def load_space(model: str) -> list[Dimension]:
    """The dimensions of ``experiments/search_spaces/<model>.toml`` (per-layer fields expanded)."""
    path = experiments_dir() / "search_spaces" / f"{model}.toml"
    if not path.exists():
        raise ConfigError(f"no search space for model '{model}' ({path} does not exist)")
    dimensions = []
    for key, spec in tomllib.loads(path.read_text()).items():
        layers = spec.get("layers")
        names = [f"{key}_{i}" for i in range(1, layers + 1)] if layers else [key]
        for name in names:
            dimensions.append(Dimension(name, tuple(spec["choices"]) if "choices" in spec else None,
                                        spec.get("low"), spec.get("high"), bool(spec.get("log", False))))
    return dimensions


BRANCH_FIELDS = {"folded": ("model.folded_",), "features": ("model.feature_",), "dmdt": ("model.dmdt_",),
                 "sequence": ("model.sequence_", "model.lstm_units")}


def active_dimensions(space: list[Dimension], config) -> list[Dimension]:
    """The dimensions that matter for ``config``: a multi-input network's switched-off branches are left out."""
    branches = getattr(config.model, "branch_list", None)
    if branches is None:
        return space
    off = tuple(prefix for branch, prefixes in BRANCH_FIELDS.items() if branch not in branches for prefix in prefixes)
    return [d for d in space if not d.name.startswith(off)] if off else space


def _suggest(space: list[Dimension], choice, integer, real) -> dict:
    """Walk the space once; ``choice(name, options)``, ``integer``/``real(name, low, high, log)``
    are the backend's own calls."""
    params = {}
    for dim in space:
        if dim.choices is not None:
            params[dim.name] = choice(dim.name, list(dim.choices))
        elif isinstance(dim.low, int) and isinstance(dim.high, int):
            params[dim.name] = integer(dim.name, dim.low, dim.high, dim.log)
        else:
            params[dim.name] = real(dim.name, dim.low, dim.high, dim.log)
    return params


def suggest_optuna(trial, space: list[Dimension]) -> dict:
    """Flat parameters for one Optuna trial."""
    return _suggest(space, trial.suggest_categorical,
                    lambda name, low, high, log: trial.suggest_int(name, low, high, log=log),
                    lambda name, low, high, log: trial.suggest_float(name, low, high, log=log))


def suggest_keras_tuner(hp, space: list[Dimension]) -> dict:
    """The same flat parameters from a Keras Tuner ``HyperParameters`` object."""
    def sampling(log: bool) -> str:
        return "log" if log else "linear"

    return _suggest(space, hp.Choice,
                    lambda name, low, high, log: hp.Int(name, low, high, sampling=sampling(log)),
                    lambda name, low, high, log: hp.Float(name, low, high, sampling=sampling(log)))


def config_from_params(base: TrainConfig, params: dict) -> TrainConfig:
    """Apply flat search parameters (``model.filters_2`` joins into ``model.filters``) to ``base``."""
    grouped: dict[str, dict[int, object]] = {}
    overrides = {}
    for name, value in params.items():
        stem, _, index = name.rpartition("_")
        if index.isdigit() and stem:
            grouped.setdefault(stem, {})[int(index)] = value
        else:
            overrides[name] = value
    for stem, values in grouped.items():
        overrides[stem] = ",".join(str(values[i]) for i in sorted(values))
    return with_overrides(base, overrides)
