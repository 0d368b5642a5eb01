"""The ``predict``, ``convert`` and ``report`` steps: batch prediction (on one machine or Spark), survey
files to Parquet, and the comparison report, each tracked."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow

from vsexp.reports.report import build_report
from vsexp.serving.batch import check_arguments, load_classifier, predict_folder
from vsexp.tracking.runs import experiment_of_run, start_run

MAX_LOGGED_BYTES = 50 * 2**20


def predict(model_uri: str, folder: str, output: str, *, fmt: str = "auto", batch_size: int = 2048,
            min_points: int | None = None, engine: str = "local", master: str = "local[*]") -> dict:
    """Classify a folder of files; the output file is logged as an artifact when small enough.

    ``min_points``: curves with fewer points get an error row; default the model's own minimum
    (what it was trained and evaluated on). ``engine="spark"``: score on Spark (``master``) from a
    survey Parquet file, or from a folder converted to one first, into a partitioned Parquet folder
    (``vsexp.serving.spark``)."""
    if engine == "spark":
        return _predict_on_spark(model_uri, folder, output, fmt=fmt, min_points=min_points, master=master)
    check_arguments(folder, output)
    classifier, trained_run = load_classifier(model_uri)
    if min_points is None:
        min_points = classifier.min_points
    with start_run("predict", entry_point="predict", experiment=experiment_of_run(trained_run),
                   tags={"vsexp.model_uri": model_uri}) as run:
        mlflow.log_params({"prediction.model_uri": model_uri, "prediction.folder": folder, "prediction.output": output,
                           "prediction.format": fmt, "prediction.min_points": min_points})
        summary = predict_folder(model_uri, folder, output, fmt=fmt, batch_size=batch_size, min_points=min_points,
                                 classifier=classifier)
        mlflow.log_metrics({"files": summary["files"], "predicted": summary["predicted"], "errors": summary["errors"],
                            "curves_per_s": summary["curves_per_s"],
                            **{f"errors_{k}": v for k, v in summary["errors_by_reason"].items()}})
        if Path(output).stat().st_size <= MAX_LOGGED_BYTES:
            mlflow.log_artifact(output, "predictions")
        summary["run_id"] = run.info.run_id
    return summary


def _predict_on_spark(model_uri: str, source: str, output: str, *, fmt: str, min_points: int | None,
                      master: str) -> dict:
    from vsexp.serving.spark import score_survey, survey_to_parquet

    trained_run = mlflow.models.get_model_info(model_uri).run_id  # the model itself is loaded by Spark's workers
    with start_run("predict", entry_point="predict", experiment=experiment_of_run(trained_run),
                   tags={"vsexp.model_uri": model_uri, "vsexp.engine": "spark"}) as run:
        mlflow.log_params({"prediction.model_uri": model_uri, "prediction.input": source, "prediction.output": output,
                           "prediction.engine": "spark", "prediction.master": master,
                           "prediction.min_points": min_points})
        with tempfile.TemporaryDirectory(prefix="vsexp-survey-") as scratch:
            if "://" not in source and Path(source).is_dir():  # a folder of survey files: converted once, then scored
                converted = survey_to_parquet(source, Path(scratch) / "survey.parquet", fmt=fmt)
                source = converted["output"]
            summary = score_survey(model_uri, source, output, master=master, min_points=min_points)
        mlflow.log_metrics({"stars": summary["stars"], "predicted": summary["predicted"], "errors": summary["errors"],
                            "curves_per_s": summary["curves_per_s"]})
        summary["run_id"] = run.info.run_id
    return summary


def convert(folder: str, output: str, *, fmt: str = "auto") -> dict:
    """Write a folder of survey files as the Parquet layout Spark scores (one row per star)."""
    from vsexp.serving.spark import survey_to_parquet

    with start_run("convert", entry_point="convert", tags={"vsexp.input": folder}) as run:
        mlflow.log_params({"conversion.input": folder, "conversion.output": output, "conversion.format": fmt})
        summary = survey_to_parquet(folder, output, fmt=fmt)
        mlflow.log_metrics({"files": summary["files"], "unreadable": summary["unreadable"]})
        summary["run_id"] = run.info.run_id
    return summary


def report(output_dir: str, experiment_names: list[str] | None = None) -> dict:
    """Write the comparison report and log its folder as the run's ``report`` artifacts."""
    with start_run("report", entry_point="report") as run:
        summary = build_report(output_dir, experiment_names)
        mlflow.log_artifacts(output_dir, "report")
        mlflow.log_metric("runs_reported", summary["runs"])
        summary["run_id"] = run.info.run_id
    return summary
