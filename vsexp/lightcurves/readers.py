"""Readers for light-curve files in the surveys' own layouts, behind one registry.

Formats (each file holds one star unless said otherwise; ``.gz`` is read transparently):

- ``ogle``: whitespace columns without header ``HJD-2450000  mag  err`` (``*.dat``); a folder may
  hold the catalogue's ``ident.dat`` (id in columns 1-17, pulsation mode in 19-26). The class comes
  from the OGLE id (``OGLE-LMC-CEP-0001`` -> ``CEPH``).
- ``crts``: CSV with header ``"ID","MJD","mag","magerr","RA","Dec"``; a folder holds
  ``lightcurves/<id>.csv`` and ``labels.csv`` (``id,label``). Rows with the placeholder time
  MJD -2409998.5 (JD 0) are removed and counted.
- ``generic``: CSV or Parquet with columns ``time, mag, err`` (one star per file, id = file stem),
  or one long table with an ``id`` column (and optionally ``label``); a folder may hold
  ``labels.csv``.

``READERS`` maps a format name to its one-file reader; ``read_file`` picks one by the file's
content; ``iter_folder`` reads a folder in any of the layouts and yields either a ``LightCurve``
or the ``LightCurveError`` that rejected a file, so callers count every file.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from vsexp.errors import DatasetError, LightCurveError
from vsexp.lightcurves.record import DEFAULT_MIN_POINTS, LightCurve, clean

log = logging.getLogger(__name__)

CRTS_PLACEHOLDER_MJD = -2409998.5
CRTS_HEADER = '"ID","MJD","mag","magerr","RA","Dec"'
OGLE_TYPE_TO_CLASS = {"CEP": "CEPH", "DSCT": "DSCT", "ECL": "ECLP", "LPV": "LPV", "RRLYR": "RRL"}
LIGHT_CURVE_SUFFIXES = (".dat", ".csv", ".parquet", ".txt")
_ONLY_EMPTY_IS_MISSING = {"keep_default_na": False, "na_values": [""]}  # "n/a" is text, not a number
_PLAIN_NUMBERS = re.compile(r"[0-9eE.+\-nNaAiIfF \t\r\n]*")  # digits, signs, exponents, nan/inf, spaces
_READ_FAILURES = (OSError, EOFError, ValueError, UnicodeDecodeError, zlib.error, pd.errors.ParserError)


def _open_text(path: Path) -> str:
    """Return a file's text, gunzipping ``.gz`` files; junk bytes raise ``LightCurveError``."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    if b"\x00" in raw:
        raise LightCurveError(str(path), "unreadable", "binary content, not a text table")
    return raw.decode("utf-8")


def _numeric_columns(frame: pd.DataFrame, columns: dict[str, str], path: Path) -> list[np.ndarray]:
    """Convert named columns to float; non-numeric cells reject the file with a count."""
    arrays = []
    for column in columns.values():
        if column not in frame.columns:
            raise LightCurveError(
                str(path),
                "missing_column",
                f"no column '{column}' (has {', '.join(map(str, frame.columns)) or 'none'})",
            )
        if pd.api.types.is_numeric_dtype(frame[column]):  # parsed as numbers already: the common case
            arrays.append(frame[column].to_numpy(dtype=np.float64))
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        spelled_nan = frame[column].astype(str).str.strip().str.lower().isin(("nan", "+nan", "-nan"))
        bad = int((values.isna() & frame[column].notna() & ~spelled_nan).sum())
        if bad:
            raise LightCurveError(str(path), "non_numeric", f"column '{column}' has {bad} non-numeric values")
        arrays.append(values.to_numpy(dtype=np.float64))
    return arrays


def _plain_numeric_table(text: str) -> np.ndarray | None:
    """[rows, columns] floats when ``text`` is a plain whitespace table of numbers with the same
    number of columns on every non-blank line (the common case, ~5x faster than pandas); None
    otherwise, and the pandas path reads the file and names what is wrong."""
    if not _PLAIN_NUMBERS.fullmatch(text):
        return None
    rows = [line.split() for line in text.splitlines()]
    rows = [row for row in rows if row]
    if not rows or len({len(row) for row in rows}) != 1:
        return None
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:  # e.g. "1e" or "--1": let pandas report it
        return None


def _plain_crts_table(text: str) -> np.ndarray | None:
    """[rows, 6] floats (ID, MJD, mag, magerr, RA, Dec) when ``text`` is the catalogue's own layout:
    its header, then plain numbers in six columns on every row (parsed in half the time pandas takes); None
    otherwise, and the pandas path reads the file and names what is wrong."""
    header, _, body = text.partition("\n")
    if header.strip() != CRTS_HEADER:
        return None
    table = _plain_numeric_table(body.replace(",", " "))
    return table if table is not None and table.shape[1] == 6 else None


def _strip_suffixes(path: Path) -> str:
    name = path.name
    for suffix in (".gz",) + LIGHT_CURVE_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def read_ogle(path: Path, *, label=None, min_points=DEFAULT_MIN_POINTS, metadata=None) -> LightCurve:
    """Read an OGLE ``.dat`` file (``HJD-2450000 mag err``)."""
    text = _open_text(path)
    if not text.strip():
        raise LightCurveError(str(path), "empty", "file is empty")
    table = _plain_numeric_table(text)
    if table is not None and table.shape[1] >= 3:
        t, m, e = table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy()
    else:
        frame = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, comment="#", **_ONLY_EMPTY_IS_MISSING)
        if frame.shape[1] < 3:
            raise LightCurveError(str(path), "missing_column", f"{frame.shape[1]} columns, expected HJD mag err")
        frame.columns = ["hjd", "mag", "err"] + [f"extra{i}" for i in range(frame.shape[1] - 3)]
        t, m, e = _numeric_columns(frame, {"t": "hjd", "m": "mag", "e": "err"}, path)
    object_id = _strip_suffixes(path)
    if label is None:
        label = ogle_class_from_id(object_id)
    return clean(object_id, t, m, e, min_points=min_points, source=str(path), label=label,
                 survey="ogle", metadata=metadata or {})


def ogle_class_from_id(object_id: str) -> str | None:
    """``OGLE-LMC-CEP-0001`` -> ``CEPH``; None when the id does not name a known type."""
    parts = object_id.split("-")
    return OGLE_TYPE_TO_CLASS.get(parts[2]) if len(parts) >= 4 else None


def read_crts(path: Path, *, label=None, min_points=DEFAULT_MIN_POINTS, metadata=None) -> LightCurve:
    """Read a CRTS per-star CSV; placeholder-time rows are removed and counted."""
    text = _open_text(path)
    if not text.strip():
        raise LightCurveError(str(path), "empty", "file is empty")
    meta = dict(metadata or {})
    table = _plain_crts_table(text)
    if table is not None:
        t, m, e = table[:, 1].copy(), table[:, 2].copy(), table[:, 3].copy()
        meta.update({"ra": float(pd.Series(table[:, 4]).median()), "dec": float(pd.Series(table[:, 5]).median())})
    else:
        frame = pd.read_csv(io.StringIO(text), **_ONLY_EMPTY_IS_MISSING)
        if frame.empty:
            raise LightCurveError(str(path), "empty", "header only, no rows")
        t, m, e = _numeric_columns(frame, {"t": "MJD", "m": "mag", "e": "magerr"}, path)
        for column in ("RA", "Dec"):
            if column in frame.columns:
                meta[column.lower()] = float(pd.to_numeric(frame[column], errors="coerce").median())
    placeholder = t == CRTS_PLACEHOLDER_MJD
    curve = clean(_strip_suffixes(path), t[~placeholder], m[~placeholder], e[~placeholder],
                  min_points=min_points, source=str(path), label=label, survey="crts", metadata=meta)
    if placeholder.any():
        curve.row_counts["placeholder_time"] = int(placeholder.sum())
    return curve


GENERIC_COLUMNS = {"t": "time", "m": "mag", "e": "err"}


def _read_table(path: Path) -> pd.DataFrame:
    if path.name.endswith(".parquet"):
        return pd.read_parquet(path)
    text = _open_text(path)
    if not text.strip():
        raise LightCurveError(str(path), "empty", "file is empty")
    return pd.read_csv(io.StringIO(text), **_ONLY_EMPTY_IS_MISSING)


def read_generic(path: Path, *, label=None, min_points=DEFAULT_MIN_POINTS, metadata=None) -> LightCurve:
    """Read a one-star CSV/Parquet with columns ``time, mag, err``."""
    frame = _read_table(path)
    if frame.empty:
        raise LightCurveError(str(path), "empty", "header only, no rows")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    t, m, e = _numeric_columns(frame, GENERIC_COLUMNS, path)
    return clean(_strip_suffixes(path), t, m, e, min_points=min_points, source=str(path),
                 label=label, survey="generic", metadata=metadata or {})


READERS: dict[str, Callable[..., LightCurve]] = {"ogle": read_ogle, "crts": read_crts, "generic": read_generic}


def detect_format(path: Path) -> str:
    """Guess a file's format from its name and first line."""
    if path.name.endswith((".dat", ".dat.gz")):
        return "ogle"
    if path.name.endswith((".csv", ".csv.gz")):
        head = _open_text(path).split("\n", 1)[0]
        return "crts" if "MJD" in head else "generic"
    return "generic"


def read_file(path, fmt: str = "auto", **kwargs) -> LightCurve:
    """Read one file in ``fmt`` (``auto`` guesses); every failure is a ``LightCurveError`` naming it."""
    path = Path(path)
    if fmt != "auto" and fmt not in READERS:
        raise DatasetError(f"unknown light-curve format '{fmt}' (allowed: auto, {', '.join(READERS)})")
    try:
        if fmt == "auto":
            fmt = detect_format(path)
        return READERS[fmt](path, **kwargs)
    except LightCurveError:
        raise
    except _READ_FAILURES as exc:
        raise LightCurveError(str(path), "unreadable", f"cannot be read ({exc})") from None


def list_light_curve_files(folder: Path) -> list[Path]:
    """Every light-curve file below ``folder`` (sorted), leaving out label and catalogue tables."""
    skip = {"labels.csv", "ident.dat", "labels.parquet"}
    suffixes = LIGHT_CURVE_SUFFIXES + tuple(s + ".gz" for s in LIGHT_CURVE_SUFFIXES)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(suffixes) and p.name not in skip)


def read_labels(path: Path) -> dict[str, str]:
    """Read an ``id,label`` table into a dict (ids as strings)."""
    try:
        frame = pd.read_csv(path, dtype=str)
    except _READ_FAILURES as exc:
        raise DatasetError(f"{path}: labels table cannot be read ({exc})") from None
    frame.columns = [c.strip().lower() for c in frame.columns]
    if not {"id", "label"} <= set(frame.columns):
        raise DatasetError(f"{path}: labels table needs columns 'id' and 'label', has {list(frame.columns)}")
    duplicated = frame["id"].duplicated()
    if duplicated.any():
        raise DatasetError(f"{path}: {int(duplicated.sum())} ids appear more than once, e.g. {frame['id'][duplicated].iloc[0]}")
    return dict(zip(frame["id"].str.strip(), frame["label"].str.strip()))


def read_ogle_ident(path: Path) -> dict[str, dict]:
    """Parse the OGLE ``ident.dat`` fixed-width lines: id (cols 1-17) and mode (cols 19-26)."""
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip():
            entries[line[0:17].strip()] = {"mode": line[18:26].strip(), "ra": line[28:39].strip(), "dec": line[40:51].strip()}
    return entries


def iter_folder(folder, fmt: str = "auto", *, min_points: int = DEFAULT_MIN_POINTS,
                require_labels: bool = False) -> Iterator[LightCurve | LightCurveError]:
    """Read every light curve below ``folder``.

    Labels come from ``labels.csv`` (CRTS, generic) or the OGLE id. Files without a label are
    yielded as ``unlabelled`` errors when ``require_labels``; labels naming files that do not exist
    are yielded as ``missing_file`` errors, so the caller's report accounts for both.

    Yields:
        ``LightCurve`` for each accepted file, ``LightCurveError`` for each rejected one.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder")
    labels_path = folder / "labels.csv"
    labels = read_labels(labels_path) if labels_path.exists() else None
    ident_path = folder / "ident.dat"
    ident = read_ogle_ident(ident_path) if ident_path.exists() else {}
    files = list_light_curve_files(folder)
    if not files:
        raise DatasetError(f"{folder}: no light-curve files ({', '.join(LIGHT_CURVE_SUFFIXES)}, optionally .gz)")
    seen = set()
    for path in files:
        object_id = _strip_suffixes(path)
        seen.add(object_id)
        label = labels.get(object_id) if labels is not None else None
        try:
            curve = read_file(path, fmt, label=label, min_points=min_points, metadata=ident.get(object_id))
        except LightCurveError as error:
            yield error
            continue
        if require_labels and curve.label is None:
            where = labels_path if labels is not None else "the OGLE id"
            yield LightCurveError(str(path), "unlabelled", f"no label for '{object_id}' in {where}")
        else:
            yield curve
    if labels is not None:
        for object_id in sorted(set(labels) - seen):
            yield LightCurveError(str(labels_path), "missing_file", f"labels name '{object_id}' but no file for it exists")
