"""A training run's whole configuration, and the one serializer of every config.

``TrainConfig(data=DataConfig(...), model=<a model family's config>, ...)`` is what a training run
takes. ``to_flat`` gives ``{"data.source": ..., "model.filters": "32,64"...}`` for
``mlflow.log_params``; ``from_flat`` rebuilds the same object from it (the model's config type chosen
by ``model.name`` in the model registry). Presets live in ``vsexp/presets/``; ``with_overrides``
applies ``key=value`` strings from the command line and rejects unknown keys with the list of
allowed ones.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

from vsexp.config import AugmentConfig, DataConfig, DmdtConfig, FitConfig, SequenceConfig, UnknownConfig
from vsexp.errors import ConfigError
from vsexp.models.registry import family
from vsexp.representations.extractor import FeatureConfig


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs."""

    data: DataConfig = DataConfig()
    model: Any = dataclasses.field(default_factory=lambda: _model_config_type("lstm")())  # a family's config
    fit: FitConfig = FitConfig()
    sequence: SequenceConfig = SequenceConfig()
    dmdt: DmdtConfig = DmdtConfig()
    augment: AugmentConfig = AugmentConfig()
    features: FeatureConfig = FeatureConfig()
    unknown: UnknownConfig = UnknownConfig()
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
        return _model_config_type(flat.get("model.name", "lstm"))
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
    try:
        return [f"model.{f.name}" for f in dataclasses.fields(_model_config_type(name))]
    except ConfigError:
        return []


def _model_config_type(name: str) -> type:
    """The config dataclass of the model family ``name`` (refused with the known names)."""
    found = family(name)
    if found.name != name:  # a variant's name is not a config's
        raise ConfigError(f"unknown model.name '{name}' (a variant of '{found.name}': use that, with {found.settings})")
    return found.config_type


def save_json(config, path) -> None:
    with open(path, "w") as handle:
        json.dump(to_flat(config), handle, indent=2, sort_keys=True)


def load_json(path, config_type=TrainConfig):
    with open(path) as handle:
        return from_flat(json.load(handle), config_type)
