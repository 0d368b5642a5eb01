"""Scoring a survey on Spark, against `vsexp predict` on one machine, in the same run.

Usage: python benchmarks/spark_predict.py [--folder ../shared/data/crts/lightcurves] [--curves 2000]
       [--model MODEL_URI]

Without ``--model``, trains the tiny synthetic forest in a temporary MLflow store (its period
features make the cost per curve the same as the best real-CRTS model's). Without ``--folder``,
writes ``--curves`` simulated OGLE-like files. Converts the folder to the survey Parquet once, then:

- baseline: ``vsexp predict`` on one machine (the folder of files);
- project: ``vsexp predict --engine spark`` with ``local[1]`` and ``local[2]`` (the Parquet file).

Ends with ``name=value`` lines: ``spark_curves_per_s`` (local[2]) and ``scaling_efficiency``
(local[2] over twice local[1]).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import mlflow  # noqa: E402

from vsexp.serving.batch import predict_folder  # noqa: E402
from vsexp.serving.spark import score_survey, survey_to_parquet  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from predict import write_files  # noqa: E402  (benchmarks/predict.py: the same simulated OGLE-like files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", default="", help="a folder of survey files (default: simulated OGLE-like files)")
    parser.add_argument("--curves", type=int, default=2000, help="files to use (written, or the first of --folder)")
    parser.add_argument("--model", default="", help="a model URI (default: a tiny forest trained here)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ.setdefault("VSEXP_CACHE_DIR", str(root / "cache"))
        if not args.model:
            mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
            from vsexp.pipelines.train import train
            from vsexp.presets import load_preset

            args.model = train(load_preset("tiny", "baseline"))["model_uri"]
        folder = root / "curves"
        folder.mkdir()
        if args.folder:
            for path in sorted(Path(args.folder).iterdir())[: args.curves]:
                shutil.copy(path, folder / path.name)
        else:
            write_files(folder, args.curves)
        survey = survey_to_parquet(folder, root / "survey.parquet")
        start = time.perf_counter()
        local = predict_folder(args.model, folder, root / "local.parquet")
        baseline = local["files"] / (time.perf_counter() - start)
        rates = {}
        for master in ("local[1]", "local[2]"):
            scored = score_survey(args.model, survey["output"], root / f"spark-{master[-2]}", master=master)
            assert scored["stars"] == survey["files"], scored
            rates[master] = scored["curves_per_s"]
    print(f"{os.cpu_count()} cores; {survey['files']} curves ({args.folder or 'simulated OGLE-like'}); model {args.model}")
    print(f"baseline, vsexp predict on one machine: {baseline:8.1f} curves/s")
    for master, rate in rates.items():
        print(f"vsexp predict --engine spark, {master}: {rate:8.1f} curves/s (writing included)")
    print(f"local_curves_per_s={baseline:.1f}")
    print(f"spark_curves_per_s={rates['local[2]']:.1f}")
    print(f"scaling_efficiency={rates['local[2]'] / (2 * rates['local[1]']):.2f}")


if __name__ == "__main__":
    main()
