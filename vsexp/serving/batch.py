"""Batch prediction: a folder of light-curve files -> a CSV/Parquet of predictions and errors.

Files are listed once, then read and classified in batches of ``batch_size`` (one batch is read
while the previous one is classified), so memory stays bounded for folders of any size. Every file gets exactly one row: its
prediction (label, probability, number of points, one probability per class) or the reason it
could not be used (``error``).
"""

from __future__ import annotations

import collections
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vsexp.console import in_chunks, progress
from vsexp.errors import ConfigError, LightCurveError
from vsexp.lightcurves.readers import list_light_curve_files, read_file

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = (".csv", ".parquet")


def load_classifier(model_uri: str):
    """(the ``LightCurveClassifier`` behind a pyfunc model URI, the id of the run that logged it)."""
    try:
        loaded = mlflow.pyfunc.load_model(model_uri)
    except mlflow.exceptions.MlflowException as error:
        raise ConfigError(f"cannot load model '{model_uri}': {error.message}") from None
    return loaded.unwrap_python_model(), loaded.metadata.run_id


class _Writer:
    """Appends DataFrames to a CSV or Parquet file (one schema, written incrementally)."""

    def __init__(self, path: Path):
        self.path, self.parquet, self.rows = path, None, 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()

    def write(self, frame: pd.DataFrame) -> None:
        if self.path.suffix == ".csv":
            frame.to_csv(self.path, mode="a", header=self.rows == 0, index=False)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.path, table.schema)
            self.parquet.write_table(table.cast(self.parquet.schema))
        self.rows += len(frame)

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()


def _read(path: Path, fmt: str, min_points: int):
    try:
        return read_file(path, fmt, min_points=min_points)
    except LightCurveError as error:
        return error


def predict_with_progress(classifier, curves, desc: str = "scoring") -> np.ndarray:
    """[n, num_classes] probabilities of ``curves``, computed in chunks with progress shown."""
    with progress(len(curves), desc, logger=log) as counter:
        return in_chunks(classifier.predict_curves, curves, counter)


def check_arguments(folder, output) -> tuple[Path, Path]:
    """Refuse a missing input folder or an output of an unknown kind before any work."""
    folder, output = Path(folder), Path(output)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder of light curves")
    if output.suffix not in OUTPUT_SUFFIXES:
        raise ConfigError(f"output '{output}' must end in {' or '.join(OUTPUT_SUFFIXES)}")
    return folder, output


def predict_folder(model_uri: str, folder, output, *, fmt: str = "auto", batch_size: int = 2048,
                   min_points: int | None = None, classifier=None) -> dict:
    """Classify every light-curve file below ``folder`` and write one row per file to ``output``.

    Returns:
        Counts: files, predicted, errors by reason, predictions by label (``unknown`` included), curves
        per second, the output path.
    """
    folder, output = check_arguments(folder, output)
    classifier = classifier or load_classifier(model_uri)[0]
    min_points = classifier.min_points if min_points is None else min_points
    files = list_light_curve_files(folder)
    if not files:
        raise ConfigError(f"{folder}: no light-curve files")
    classifier.use_batch_mode()
    writer, errors, labels = _Writer(output), collections.Counter(), collections.Counter()
    columns = ["file", "id", "label", "probability", "n_points", *[f"prob_{c}" for c in classifier.class_names], "error"]

    def classify(chunk, items) -> pd.DataFrame:
        rows = []
        good = [(p, c) for p, c in zip(chunk, items) if not isinstance(c, LightCurveError)]
        if good:
            frame = classifier.to_frame([c for _, c in good], classifier.predict_curves([c for _, c in good]))
            labels.update(frame["label"])
            frame.insert(0, "id", [c.object_id for _, c in good])
            frame.insert(0, "file", [str(p) for p, _ in good])
            rows.append(frame)
        bad = [(p, e) for p, e in zip(chunk, items) if isinstance(e, LightCurveError)]
        if bad:
            errors.update(e.reason for _, e in bad)
            rows.append(pd.DataFrame({"file": [str(p) for p, _ in bad], "id": [p.name for p, _ in bad],
                                      "error": [f"{e.reason}: {e}" for _, e in bad]}))
        batch = pd.concat(rows, ignore_index=True).reindex(columns=columns)
        return batch.astype({"n_points": "Int64", "error": "string", "label": "string"})

    started = time.perf_counter()
    # reading is Python (one core, the GIL); inference runs in TensorFlow's threads without the GIL:
    # batch k is classified in the background while batch k+1 is read
    with ThreadPoolExecutor(1) as background, progress(len(files), "predicting", logger=log) as bar:
        pending = None
        try:
            for start in range(0, len(files), batch_size):
                chunk = files[start:start + batch_size]
                items = [_read(path, fmt, min_points) for path in chunk]
                if pending is not None:
                    writer.write(pending.result())
                pending = background.submit(classify, chunk, items)
                bar.update(len(chunk))
            if pending is not None:
                writer.write(pending.result())
        finally:
            writer.close()
    seconds = time.perf_counter() - started
    summary = {"output": str(output), "files": len(files), "predicted": len(files) - sum(errors.values()),
               "errors": sum(errors.values()), "errors_by_reason": dict(errors), "labels": dict(sorted(labels.items())),
               "curves_per_s": round(len(files) / seconds, 1) if seconds > 0 else float("nan")}
    log.info("predicted %d of %d files (%s errors) at %.0f curves/s", summary["predicted"], len(files),
             summary["errors"], summary["curves_per_s"])
    return summary

