"""Named presets: TOML files beside this module (package data) turned into ``TrainConfig`` objects.

A preset file has sections ``[data]``, ``[fit]``, ``[sequence]``, ``[dmdt]``, ``[augment]``,
``[features]``, ``[unknown]`` shared by every model, and ``[model.<name>]`` for any model family::

    [data]
    source = "synthetic-ogle"
    [model.lstm]
    filters = [32, 32, 64, 64]

``model_size = "tiny"`` at the top starts every model from its family's ``tiny.toml`` (small enough
for tests); the preset's own ``[model.<name>]`` settings come after.

>>> from vsexp.presets import load_preset
>>> config = load_preset("tiny", "lstm")
>>> config.data.size, config.model.filters
('tiny', (4, 4, 8, 8))
>>> load_preset("tiny", "hybrid").model.branches
'sequence,dmdt'
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from vsexp.config import AugmentConfig, DataConfig, DmdtConfig, FitConfig, SequenceConfig, UnknownConfig
from vsexp.errors import ConfigError
from vsexp.representations.extractor import FeatureConfig
from vsexp.train_config import TrainConfig, from_flat, with_overrides

SECTIONS = {"data": DataConfig, "fit": FitConfig, "sequence": SequenceConfig, "dmdt": DmdtConfig,
            "augment": AugmentConfig, "features": FeatureConfig, "unknown": UnknownConfig}


def presets_dir() -> Path:
    """``VSEXP_PRESETS_DIR``, else the presets installed with the package."""
    return Path(os.environ.get("VSEXP_PRESETS_DIR", str(resources.files(__name__))))


def preset_names() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.toml"))


def load_preset(name: str, model: str) -> TrainConfig:
    """The ``TrainConfig`` of preset ``name`` for ``model`` (a model family's name, or a variant's:
    ``hybrid`` is the multi-input network on the paper's two branches, ``sequence,dmdt``)."""
    from vsexp.models.registry import family

    model_family = family(model)
    path = presets_dir() / f"{name}.toml"
    if not path.exists():
        raise ConfigError(f"unknown preset '{name}' (allowed: {', '.join(preset_names())})")
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    size = document.pop("model_size", "")
    if size not in ("", "tiny"):
        raise ConfigError(f"{path}: model_size must be 'tiny' when given, got '{size}'")
    flat = {"preset": name, "model.name": model_family.name}
    for section in SECTIONS:
        flat.update({f"{section}.{k}": _flat_value(v) for k, v in document.get(section, {}).items()})
    if size == "tiny":
        flat.update({k: _flat_value(v) for k, v in model_family.tiny_settings.items()})
    flat.update({f"model.{k}": _flat_value(v) for k, v in document.get("model", {}).get(model_family.name, {}).items()})
    known = {f"model.{f}" for f in model_family.config_type.__dataclass_fields__} | {"preset"}
    for section, config_type in SECTIONS.items():
        known |= {f"{section}.{f}" for f in config_type.__dataclass_fields__}
    unknown = sorted(set(flat) - known) + sorted(f"[{k}]" for k in set(document) - set(SECTIONS) - {"model"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    config = from_flat(flat)
    return with_overrides(config, model_family.settings) if model_family.settings else config


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
