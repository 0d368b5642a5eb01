"""Batch prediction speed from raw files with the paper's CNN-LSTM (default size), end to end.

Usage: python benchmarks/predict.py [--curves 4000]

Writes ``--curves`` OGLE-like ``.dat`` files (simulated), logs a default-size CNN-LSTM (weights
untrained: speed does not depend on them) with a transform fitted on the tiny synthetic survey
as the raw-light-curve pyfunc in a temporary MLflow store, then classifies the folder:

- baseline: file by file through the pyfunc (read one file, ``model.predict`` one row) — what a
  client calling the model per star does, on a tenth of the files;
- project: ``vsexp predict``'s ``predict_folder`` (reading overlapped with XLA inference, batches of 2048).

Ends with ``name=value`` lines.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from vsexp.config import DataConfig, SequenceConfig  # noqa: E402
from vsexp.dataset.build import build_dataset  # noqa: E402
from vsexp.lightcurves.readers import read_file  # noqa: E402
from vsexp.lightcurves.simulator import OGLE_CLASSES, simulate_star  # noqa: E402
from vsexp.models.cnn_lstm.config import CnnLstmConfig  # noqa: E402
from vsexp.models.cnn_lstm.network import build_cnn_lstm  # noqa: E402
from vsexp.representations.cache import fit_transform  # noqa: E402
from vsexp.representations.protocol import Settings  # noqa: E402
from vsexp.serving.batch import predict_folder  # noqa: E402
from vsexp.serving.pyfunc import log_classifier  # noqa: E402


def write_files(folder: Path, count: int) -> None:
    labels = list(OGLE_CLASSES)
    for index in range(count):
        star = simulate_star("ogle", labels[index % len(labels)], index, seed=3)
        np.savetxt(folder / f"OGLE-SIM-{index:06d}.dat", np.column_stack([star.times - 50000, star.mags, star.errors]),
                   fmt="%.5f %.4f %.4f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=int, default=4000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["VSEXP_CACHE_DIR"] = str(root / "cache")
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        folder = root / "curves"
        folder.mkdir()
        write_files(folder, args.curves)
        dataset = build_dataset(DataConfig(source="synthetic-ogle", size="tiny", min_points=40))
        transform = fit_transform(dataset, ("sequence",), Settings(sequence=SequenceConfig(length=359)))
        model = build_cnn_lstm(CnnLstmConfig(), (359, 1), len(dataset.classes))
        mlflow.set_experiment("benchmark")
        with mlflow.start_run():
            info = log_classifier(model, transform=transform, class_names=dataset.classes,
                                  work_dir=root / "export")
        pyfunc = mlflow.pyfunc.load_model(info.model_uri)
        classifier = pyfunc.unwrap_python_model()

        files = sorted(folder.iterdir())[: max(100, args.curves // 10)]
        start = time.perf_counter()
        for path in files:
            curve = read_file(path, min_points=10)
            pyfunc.predict(pd.DataFrame({"times": [curve.times], "mags": [curve.mags], "errors": [curve.errors]}))
        baseline = len(files) / (time.perf_counter() - start)

        predict_folder(info.model_uri, folder, root / "warmup.csv", classifier=classifier)  # trace the model once
        start = time.perf_counter()
        summary = predict_folder(info.model_uri, folder, root / "predictions.parquet", classifier=classifier)
        project = summary["files"] / (time.perf_counter() - start)
        assert summary["errors"] == 0, summary

    print(f"{os.cpu_count()} cores; CNN-LSTM {model.count_params():,} parameters; {args.curves} OGLE-like .dat files")
    print(f"baseline, file by file through the pyfunc: {baseline:8.0f} curves/s")
    print(f"vsexp predict (overlapped, XLA batches):   {project:8.0f} curves/s")
    print(f"speedup_vs_file_by_file={project / baseline:.1f}")
    print(f"curves_per_s={project:.0f}")


if __name__ == "__main__":
    main()
