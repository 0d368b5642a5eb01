"""What a person sees while a command runs: progress, and no noise they cannot act on.

``progress`` shows a bar on a terminal and, when output goes to a log (``mlflow run``, CI, a
file), a line every ``LOG_EVERY_SECONDS`` with done/total, rate and time left. ``quiet_warnings``
filters the library warnings a user of vsexp cannot act on (their causes that vsexp controls are
removed at the source). ``import_tensorflow_quietly`` keeps TensorFlow's C++ start-up banner
(printed before its logging is configured, so ``TF_CPP_MIN_LOG_LEVEL`` cannot stop it) off stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings

LOG_EVERY_SECONDS = 30.0

# (category, message regex) of warnings nobody running vsexp can act on
UNACTIONABLE_WARNINGS = (
    (UserWarning, r".*An input example was not provided when logging the model"),  # idem
    (UserWarning, r".*Distutils was imported before Setuptools"),
)


def quiet_warnings() -> None:
    """Filter ``UNACTIONABLE_WARNINGS`` (every other warning still shows)."""
    for category, message in UNACTIONABLE_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 pointed at /dev/null (errors are raised as usual)."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(null, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class _LoggedProgress:
    """A tqdm-like counter that logs done/total, rate and time left every ``every`` seconds."""

    def __init__(self, total: int | None, desc: str, unit: str, logger: logging.Logger, every: float):
        self.total, self.desc, self.unit, self.log, self.every = total, desc, unit, logger, every
        self.done, self.started = 0, time.perf_counter()
        self.last = self.started

    @property
    def n(self) -> int:  # tqdm's name for it
        return self.done

    def update(self, count: int = 1) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            self._report(now)

    def _report(self, now: float) -> None:
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total:
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            self.log.info("%s: %d/%d %s (%.0f%%), %.1f %s/s, about %s left", self.desc, self.done, self.total,
                          self.unit, 100 * self.done / self.total, rate, self.unit, _duration(left))
        else:
            self.log.info("%s: %d %s, %.1f %s/s", self.desc, self.done, self.unit, rate, self.unit)

    def close(self) -> None:
        elapsed = time.perf_counter() - self.started
        if elapsed >= self.every:  # short work needs no closing line
            self.log.info("%s: %d %s in %s", self.desc, self.done, self.unit, _duration(elapsed))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: no rate yet
        return "?"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def progress(total: int | None, desc: str, unit: str = "curve", logger: logging.Logger | None = None,
             every: float | None = None):
    """A progress counter (``update(n)``, ``close()``, a context manager): a tqdm bar when stderr is a
    terminal, else periodic log lines through ``logger``."""
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit)
    return _LoggedProgress(total, desc, unit, logger or logging.getLogger("vsexp"),
                           LOG_EVERY_SECONDS if every is None else every)


def in_chunks(compute, items, counter, chunk_size: int = 500):
    """``compute`` over ``items`` a chunk of ``chunk_size`` at a time, each chunk counted on
    ``counter`` (a ``progress``); the results concatenated (``compute(items)`` when there are none)."""
    import numpy as np

    parts = []
    for start in range(0, len(items), chunk_size):
        chunk = items[start:start + chunk_size]
        parts.append(compute(chunk))
        counter.update(len(chunk))
    return np.concatenate(parts) if parts else compute(items)


@contextlib.contextmanager
def tracked(iterable, total: int | None, desc: str, unit: str = "curve", logger: logging.Logger | None = None):
    """Iterate ``iterable`` with ``progress`` counting each item."""
    with progress(total, desc, unit, logger) as counter:
        def counted():
            for item in iterable:
                yield item
                counter.update(1)
        yield counted()
