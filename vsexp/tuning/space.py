"""Search spaces: ``search_space.toml`` in a model family's folder -> suggestions -> a ``TrainConfig``.

A space maps flat config keys to a range::

    ["model.filters"]          # searched per layer: model.filters_1 ... model.filters_4
    layers = 4
    choices = [8, 16, 32, 64]
    ["fit.learning_rate"]
    low = 1e-4
    high = 3e-3
    log = true
    ["model.folded_filters"]   # a multi-input network's: searched only when its branch is on
    branch = "folded"
    layers = 3
    choices = [16, 32, 64]

``suggest_optuna`` (the one place that calls ``trial.suggest_*``) and ``suggest_keras_tuner`` turn a
space into the same flat parameters; ``config_from_params`` applies them to a base config.
"""

from __future__ import annotations

import dataclasses
import tomllib

from vsexp.errors import ConfigError
from vsexp.models.registry import families, family
from vsexp.train_config import TrainConfig, with_overrides


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One searched value: ``choices``, or a ``low``-``high`` range (``log`` scale optional);
    ``branch``: searched only when the model has that branch on."""

    name: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    branch: str | None = None

    def __post_init__(self):
        if self.choices is None and (self.low is None or self.high is None or not self.low < self.high):
            raise ConfigError(f"search dimension '{self.name}' needs choices or low < high")


def load_space(model: str) -> list[Dimension]:
    """The dimensions of the model family's search space (per-layer fields expanded).

    Raises:
        ConfigError: the model is unknown, or its family has no search space.
    """
    model_family = family(model)
    text = model_family.data_file("search_space.toml")
    if text is None:
        searchable = ", ".join(f.name for f in families() if f.searchable)
        raise ConfigError(f"model '{model}' has no search space (searchable: {searchable})")
    dimensions = []
    for key, spec in tomllib.loads(text).items():
        layers = spec.get("layers")
        names = [f"{key}_{i}" for i in range(1, layers + 1)] if layers else [key]
        for name in names:
            dimensions.append(Dimension(name, tuple(spec["choices"]) if "choices" in spec else None,
                                        spec.get("low"), spec.get("high"), bool(spec.get("log", False)),
                                        spec.get("branch")))
    return dimensions


def active_dimensions(space: list[Dimension], config) -> list[Dimension]:
    """The dimensions that matter for ``config``: those of branches that are off are left out."""
    branches = getattr(config.model, "branch_list", ())
    return [d for d in space if d.branch is None or d.branch in branches]


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
