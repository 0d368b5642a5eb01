"""Shared test set-up: a temporary MLflow store and cache per session, tiny data, fixture paths."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def isolated_workspace(tmp_path_factory):
    """Run every test in a temporary folder with its own MLflow store and dataset cache."""
    root = tmp_path_factory.mktemp("workspace")
    previous = Path.cwd()
    os.chdir(root)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    os.environ["VSEXP_CACHE_DIR"] = str(root / "cache")
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    os.environ.pop("MLFLOW_RUN_ID", None)
    yield root
    os.chdir(previous)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def tiny_dataset():
    """The ``tiny`` preset's synthetic OGLE-like dataset (built once per session)."""
    from vsexp.dataset.build import build_dataset
    from vsexp.presets import load_preset

    return build_dataset(load_preset("tiny", "lstm").data)


def sine_curve(n=60, period=0.6, amplitude=0.4, seed=0, span=1500.0):
    """A hand-made sinusoidal light curve: (times sorted, mags, errors)."""
    rng = np.random.default_rng(seed)
    times = np.sort(53000 + rng.uniform(0, span, n))
    mags = 15 + amplitude * np.sin(2 * np.pi * times / period) + rng.normal(0, 0.02, n)
    return times, mags, np.full(n, 0.02)


def request_frame(stars) -> pd.DataFrame:
    """A pyfunc request of raw light curves: one row per star, with its times, mags and errors as lists."""
    return pd.DataFrame({"times": [s.times.tolist() for s in stars], "mags": [s.mags.tolist() for s in stars],
                         "errors": [s.errors.tolist() for s in stars]})
