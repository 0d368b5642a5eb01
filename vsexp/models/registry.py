"""The model families: one folder each under ``vsexp/models/``, found here by looking.

A family's folder holds its config (a frozen dataclass whose ``name`` is the family's name), its
builder, its search space (``search_space.toml``, when it can be searched) and ``tiny.toml``, the
small settings its tests and the ``tiny`` preset use. Its ``__init__.py`` declares ``FAMILY``, a
``ModelFamily``; importing it must stay cheap (no TensorFlow), so builders import their framework
when called. Training, cross-validation, tuning, run tags, reports, CLI sub-commands and the
``train`` entry point all read this registry: a new folder is a new model everywhere.

>>> from vsexp.models.registry import family, family_names
>>> {"baseline", "cnn", "lstm", "multi"} <= set(family_names())
True
>>> family("lstm").inputs(family("lstm").config_type())
('sequence',)
>>> family("hybrid").name, family("hybrid").settings
('multi', {'model.branches': 'sequence,dmdt'})
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
import tomllib
from importlib import resources
from typing import Any, Callable

from vsexp.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ModelFamily:
    """What the platform needs to know of a model family.

    Attributes:
        name: the config's ``model.name``, the ``train_<name>`` command, the registered model's suffix.
        family: the ``vsexp.model_family`` tag (``cnn-lstm``, ``random-forest``...).
        title: a short name for tables (``1D CNN-LSTM``).
        description: one line for ``--help``.
        config_type: the family's frozen config dataclass.
        inputs: ``config -> (representation name, ...)``: what the model takes, in order.
        build: ``(config, input_shapes, num_classes, seed) -> model``; ``input_shapes`` maps each
            input's name to its shape without the batch axis. A network is a Keras model taking a
            dict of inputs; an estimator is a scikit-learn classifier taking the same dict.
        network: fitted epoch by epoch with Keras (else a scikit-learn estimator, fitted once).
        qualifier: ``run params -> str``: what tells two runs of the family apart in tables
            (the branches, the kind), or "" when nothing does.
        variants: other names for preset settings of this family (``hybrid`` = ``multi`` on
            ``sequence,dmdt``), each with its description and its settings.
        custom_objects: ``() -> {name: class}``: the Keras classes a saved model needs to load.
        served_transform: ``(config, transform) -> transform``: the fitted transform the served model
            carries (a forest on some feature groups computes only those).
        package: the folder's module (set by the registry).
        settings: the variant's settings when looked up by a variant's name (set by ``family``).
    """

    name: str
    family: str
    title: str
    description: str
    config_type: type
    inputs: Callable[[Any], tuple[str, ...]]
    build: Callable[..., Any]
    network: bool = True
    qualifier: Callable[[dict], str] = lambda params: ""
    variants: dict[str, tuple[str, dict]] = dataclasses.field(default_factory=dict)
    custom_objects: Callable[[], dict] = dict
    served_transform: Callable[[Any, Any], Any] = lambda config, transform: transform
    package: str = ""
    settings: dict = dataclasses.field(default_factory=dict)

    def data_file(self, name: str) -> str | None:
        """The text of ``name`` in the family's folder (package data), or None."""
        path = resources.files(self.package).joinpath(name)
        return path.read_text() if path.is_file() else None

    @property
    def searchable(self) -> bool:
        return self.data_file("search_space.toml") is not None

    @property
    def tiny_settings(self) -> dict:
        """The ``model.*`` settings of ``tiny.toml``: a model small enough for tests."""
        text = self.data_file("tiny.toml")
        return {f"model.{k}": v for k, v in tomllib.loads(text).items()} if text else {}


@functools.cache
def _families() -> dict[str, ModelFamily]:
    import vsexp.models

    found = {}
    for module in pkgutil.iter_modules(vsexp.models.__path__):
        if not module.ispkg:
            continue
        package = f"vsexp.models.{module.name}"
        declared = getattr(importlib.import_module(package), "FAMILY", None)
        if declared is None:
            continue
        if declared.name in found:
            raise ConfigError(f"two model families are named '{declared.name}' ({found[declared.name].package}, {package})")
        found[declared.name] = dataclasses.replace(declared, package=package)
    return found


def family_names(variants: bool = False) -> list[str]:
    """The families' names, sorted; with ``variants``, their variants' names too."""
    names = list(_families())
    if variants:
        names += [v for f in _families().values() for v in f.variants]
    return sorted(names)


def family(name: str) -> ModelFamily:
    """The family called ``name``, or whose variant it is (its ``settings`` then set).

    Raises:
        ConfigError: no family or variant has that name.
    """
    if name in _families():
        return _families()[name]
    for candidate in _families().values():
        if name in candidate.variants:
            return dataclasses.replace(candidate, settings=candidate.variants[name][1])
    raise ConfigError(f"unknown model '{name}' (allowed: {', '.join(family_names(variants=True))})")


def families() -> list[ModelFamily]:
    return [_families()[name] for name in family_names()]


def commands() -> list[tuple[str, str]]:
    """Every trainable name with its description: the families, then their variants."""
    listed = [(f.name, f.description) for f in families()]
    return listed + [(name, text) for f in families() for name, (text, _) in f.variants.items()]


def config_types() -> dict[str, type]:
    """``model.name`` -> config dataclass, for every family."""
    return {name: f.config_type for name, f in _families().items()}


def custom_objects() -> dict:
    """Every family's Keras classes that saved models need to load."""
    return {k: v for f in _families().values() for k, v in f.custom_objects().items()}


def input_shapes(inputs: dict) -> dict[str, tuple[int, ...]]:
    """``{name: array [n, ...]}`` -> ``{name: shape without the batch axis}``."""
    return {name: tuple(array.shape[1:]) for name, array in inputs.items()}
