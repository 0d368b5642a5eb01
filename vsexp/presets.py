"""Named presets: TOML files in ``experiments/presets/`` turned into ``TrainConfig`` objects.

A preset file has sections ``[data]``, ``[fit]``, ``[sequence]``, ``[dmdt]``, ``[augment]`` shared by every
model, and ``[model.lstm]``, ``[model.cnn]``, ``[model.baseline]`` for each architecture::

    [data]
    source = "synthetic-ogle"
    [model.lstm]
    filters = [32, 32, 64, 64]

``load_preset("ogle_small", "lstm")`` gives the config; overrides come after, from the command line.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from vsexp.config import (MODEL_CONFIGS, AugmentConfig, DataConfig, DmdtConfig, FitConfig, SequenceConfig, TrainConfig,
                          from_flat, with_overrides)
from vsexp.errors import ConfigError


SECTIONS = {"data": DataConfig, "fit": FitConfig, "sequence": SequenceConfig, "dmdt": DmdtConfig,
            "augment": AugmentConfig}


def experiments_dir() -> Path:
    """``VSEXP_EXPERIMENTS_DIR``, else ``experiments/`` beside the package."""
    return Path(os.environ.get("VSEXP_EXPERIMENTS_DIR", Path(__file__).resolve().parents[1] / "experiments"))


def preset_names() -> list[str]:
    return sorted(p.stem for p in (experiments_dir() / "presets").glob("*.toml"))


def load_preset(name: str, model: str) -> TrainConfig:
    """The ``TrainConfig`` of preset ``name`` for ``model`` (``lstm``, ``cnn``, ``baseline``, ``multi``,
    or ``hybrid``: the multi-input network on the paper's two branches, ``sequence,dmdt``)."""
    if model == "hybrid":
        return with_overrides(load_preset(name, "multi"), {"model.branches": "sequence,dmdt"})
    if model not in MODEL_CONFIGS:
        raise ConfigError(f"unknown model '{model}' (allowed: {', '.join(MODEL_CONFIGS)}, hybrid)")
    path = experiments_dir() / "presets" / f"{name}.toml"
    if not path.exists():
        raise ConfigError(f"unknown preset '{name}' (allowed: {', '.join(preset_names())})")
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    flat = {"preset": name, "model.name": model}
    for section in SECTIONS:
        flat.update({f"{section}.{k}": _flat_value(v) for k, v in document.get(section, {}).items()})
    flat.update({f"model.{k}": _flat_value(v) for k, v in document.get("model", {}).get(model, {}).items()})
    known = {f"model.{f}" for f in MODEL_CONFIGS[model].__dataclass_fields__} | {"preset"}
    for section, config_type in SECTIONS.items():
        known |= {f"{section}.{f}" for f in config_type.__dataclass_fields__}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    return from_flat(flat)


def _flat_value(value):
    return ",".join(str(v) for v in value) if isinstance(value, list) else value


MAIN_MODELS = ("baseline", "lstm", "cnn")


def configs_for_models(name: str, overrides: dict, models=MAIN_MODELS) -> dict[str, TrainConfig]:
    """Each model's config of preset ``name`` with the user's ``overrides`` (what ``main`` trains).

    Every section's settings reach every model; a ``model.*`` setting reaches each model that has that
    field (``model.filters`` both networks, ``model.n_estimators`` the forest). A setting no model
    takes is refused, never dropped.
    """
    if "model.name" in overrides:
        raise ConfigError(f"model.name cannot be set here: this job trains {', '.join(models)}")
    unused = {key for key in overrides if key.startswith("model.")}
    configs = {}
    for model in models:
        config = load_preset(name, model)
        fields = {f"model.{field}" for field in config.model.__dataclass_fields__}
        unused -= fields
        configs[model] = with_overrides(config, {k: v for k, v in overrides.items()
                                                 if not k.startswith("model.") or k in fields})
    if unused:
        raise ConfigError(f"setting(s) {', '.join(sorted(unused))} fit none of the models {', '.join(models)}")
    return configs
