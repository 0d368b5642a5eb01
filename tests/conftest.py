"""Shared test set-up: a temporary MLflow store and cache for the whole test run, tiny data, fixture paths,
helpers for the servers tests start."""

from __future__ import annotations

import os
import uuid
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
    """The ``tiny`` preset's synthetic OGLE-like dataset (built once per test run)."""
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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process, timeout: float = 120.0) -> None:
    """Poll ``url`` until it answers; fail the test when ``process`` dies or ``timeout`` passes."""
    import time
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server for {url} exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")


def post_json(url: str, payload) -> tuple[int, dict]:
    """(HTTP status, decoded JSON body) of a POST of ``payload``."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def stop_process_group(process, timeout: float = 30.0) -> None:
    """SIGTERM a process started with ``start_new_session=True`` and its children; wait for it."""
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    process.wait(timeout=timeout)


SERVICE_MARKERS = ("postgres", "browser", "spark")  # tests of real services: in CI (VSEXP_REQUIRE_SERVICES=1) a skip fails


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and os.environ.get("VSEXP_REQUIRE_SERVICES") == "1"
            and any(item.get_closest_marker(marker) for marker in SERVICE_MARKERS)):
        report.outcome = "failed"
        report.longrepr = f"a service test may not skip here (VSEXP_REQUIRE_SERVICES=1): {report.longrepr}"


POSTGRES_URL = os.environ.get("VSEXP_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def _postgres_or_skip():
    sqlalchemy = pytest.importorskip("sqlalchemy")
    try:
        with sqlalchemy.create_engine(POSTGRES_URL).connect():
            pass
    except Exception as error:  # any driver or connection failure means no server to test against
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL} ({type(error).__name__}); set VSEXP_TEST_POSTGRES")
    return sqlalchemy


@pytest.fixture
def fresh_postgres_database():
    """A new, empty PostgreSQL database (dropped afterwards): workers meet Optuna's schema creation."""
    sqlalchemy = _postgres_or_skip()
    name = f"vsexp_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
