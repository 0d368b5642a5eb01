"""The ``preprocess`` step: build (or reuse) a dataset and its representations, tracked in MLflow."""

from __future__ import annotations

import logging

import mlflow

from vsexp.config import DataConfig, DmdtConfig, SequenceConfig
from vsexp.dataset.build import Dataset, build_dataset, counts_table
from vsexp.representations.extractor import FeatureConfig
from vsexp.tracking.runs import experiment_for, log_dataset, log_table, start_run
from vsexp.train_config import to_flat

log = logging.getLogger(__name__)

MAX_ARTIFACT_BYTES = 200 * 2**20  # larger Parquet files stay in the cache, referenced by path
PAPER_INPUTS = ("sequence", "dmdt")  # what the paper's networks take, built ahead of training


def preprocess_params(data: DataConfig, sequence: SequenceConfig | None = None, dmdt: DmdtConfig | None = None,
                      features: FeatureConfig | None = None) -> dict:
    """The run's parameters: every setting that decides what is built (``data.*``, ``sequence.*``...)."""
    sections = {"data": data, "sequence": sequence or SequenceConfig(), "dmdt": dmdt or DmdtConfig(),
                "features": features or FeatureConfig()}
    return {f"{name}.{k}": str(v) for name, config in sections.items() for k, v in to_flat(config).items()}


def preprocess(data: DataConfig, sequence: SequenceConfig | None = None, dmdt: DmdtConfig | None = None,
               features: FeatureConfig | None = None, *, rebuild: bool = False, nested: bool = False
               ) -> tuple[Dataset, dict]:
    """Build the dataset ``data`` describes and the representations, logging one MLflow run
    (``nested``: a step of the active run, as in ``main``).

    Returns:
        The dataset and the summary dict printed as the command's JSON line.
    """
    from vsexp.representations.cache import build_representations
    from vsexp.representations.protocol import Settings

    with start_run("preprocess", entry_point="preprocess", experiment=experiment_for(data.survey_name),
                   nested=nested, tags={"vsexp.survey": data.survey_name}) as run:
        mlflow.log_params(preprocess_params(data, sequence, dmdt, features))
        dataset = build_dataset(data, rebuild=rebuild)
        manifest = dataset.manifest
        mlflow.set_tags({"vsexp.dataset": manifest["name"], "vsexp.dataset_reused": str(manifest["reused"]).lower()})
        log_dataset(dataset)
        counts = counts_table(dataset)
        log_table(counts, "dataset/counts.json")
        for split, per_class in manifest["counts"].items():
            mlflow.log_metrics({f"stars_{split}_{label}": n for label, n in per_class.items()})
        report = manifest["report"]
        mlflow.log_metrics({"stars": manifest["stars"], "rejected": report["rejected"],
                            **{f"rejected_{k}": v for k, v in report["rejected_by_reason"].items()},
                            **{f"rows_{k}": v for k, v in report["row_counts"].items()}})
        mlflow.log_dict(report, "dataset/rejections.json")
        mlflow.log_artifact(str(dataset.path / "manifest.json"), "dataset")
        parquet = dataset.path / "lightcurves.parquet"
        if parquet.stat().st_size <= MAX_ARTIFACT_BYTES:
            mlflow.log_artifact(str(parquet), "dataset")
        representations = build_representations(dataset, PAPER_INPUTS, Settings(
            sequence or SequenceConfig(), dmdt or DmdtConfig(), features or FeatureConfig()))
        mlflow.log_dict(representations.describe(), "dataset/representations.json")
        summary = {
            "run_id": run.info.run_id,
            "dataset": str(dataset.path),
            "reused": manifest["reused"],
            "stars": manifest["stars"],
            "rejected": report["rejected"],
            "rejected_by_reason": report["rejected_by_reason"],
            "counts": manifest["counts"],
            "dmdt_bins": list(representations.transform.states["dmdt"].shape),
        }
    return dataset, summary
