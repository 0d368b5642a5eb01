"""The ``predict`` and ``report`` steps: batch prediction and the comparison report, each tracked."""

from __future__ import annotations

from pathlib import Path

import mlflow

from vsexp.reports.report import build_report
from vsexp.serving.batch import check_arguments, load_classifier, predict_folder
from vsexp.tracking.runs import experiment_of_run, start_run

MAX_LOGGED_BYTES = 50 * 2**20


def predict(model_uri: str, folder: str, output: str, *, fmt: str = "auto", batch_size: int = 2048,
            min_points: int | None = None) -> dict:
    """Classify a folder of files; the output file is logged as an artifact when small enough.

    ``min_points``: curves with fewer points get an error row; default the model's own minimum
    (what it was trained and evaluated on)."""
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


def report(output_dir: str, experiment_names: list[str] | None = None) -> dict:
    """Write the comparison report and log its folder as the run's ``report`` artifacts."""
    with start_run("report", entry_point="report") as run:
        summary = build_report(output_dir, experiment_names)
        mlflow.log_artifacts(output_dir, "report")
        mlflow.log_metric("runs_reported", summary["runs"])
        summary["run_id"] = run.info.run_id
    return summary
