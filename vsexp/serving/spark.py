"""Classifying a whole survey on Spark: the registered pyfunc applied by ``mlflow.pyfunc.spark_udf``.

The input is Parquet with one row per star (``id`` and the ragged arrays ``times``, ``mags``,
``errors``; ``file`` and ``error`` when written by ``survey_to_parquet`` from a folder of survey
files). The output is Parquet partitioned by ``status`` (``predicted`` or ``error``) in the schema below, version
``OUTPUT_SCHEMA_VERSION``: every input row gives exactly one output row, with its prediction or the
reason it has none.

======================  =========  ========================================================
column                  type       meaning
======================  =========  ========================================================
file                    string     the source file, when converted from a folder
id                      string     the star
label                   string     the most probable class or ``unknown`` (null if error)
probability             double     that class's probability
prob_<class>            double     each class's probability, in the model's class order
n_points                long       points used after cleaning (duplicates merged, NaN removed)
error                   string     why there is no prediction (unreadable file, too few points...)
status                  string     ``predicted`` or ``error``; the partition key
model_name              string     the registered model (empty for a run's model)
model_version           string     its version
schema_version          int        ``OUTPUT_SCHEMA_VERSION``
======================  =========  ========================================================

``local[*]`` uses every core of one machine; ``--master spark://HOST:7077`` (or ``spark-submit``)
a cluster, whose workers need vsexp's requirements (the model's ``requirements.txt``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import mlflow
import pyarrow as pa
import pyarrow.parquet as pq

from vsexp.errors import ConfigError, LightCurveError
from vsexp.lightcurves.readers import list_light_curve_files, read_file

log = logging.getLogger(__name__)

OUTPUT_SCHEMA_VERSION = 1
SURVEY_SCHEMA = pa.schema([("file", pa.string()), ("id", pa.string()), ("times", pa.list_(pa.float64())),
                           ("mags", pa.list_(pa.float64())), ("errors", pa.list_(pa.float64())), ("error", pa.string())])


def survey_to_parquet(folder, output, *, fmt: str = "auto", chunk: int = 4096) -> dict:
    """Write every light-curve file below ``folder`` as one row of ``output`` (``SURVEY_SCHEMA``):
    its cleaned curve, or, for a file that cannot be read, empty arrays and the reason."""
    folder, output = Path(folder), Path(output)
    files = list_light_curve_files(folder) if folder.is_dir() else []
    if not files:
        raise ConfigError(f"{folder}: no light-curve files")
    output.parent.mkdir(parents=True, exist_ok=True)
    unreadable = 0
    with pq.ParquetWriter(output, SURVEY_SCHEMA) as writer:
        for start in range(0, len(files), chunk):
            rows = []
            for path in files[start:start + chunk]:
                try:
                    curve = read_file(path, fmt, min_points=2)  # the model's own minimum applies when scoring
                    rows.append({"file": str(path), "id": curve.object_id, "times": curve.times.tolist(),
                                 "mags": curve.mags.tolist(), "errors": curve.errors.tolist(), "error": None})
                except LightCurveError as error:
                    unreadable += 1
                    rows.append({"file": str(path), "id": path.name, "times": [], "mags": [], "errors": [],
                                 "error": f"{error.reason}: {error}"})
            writer.write_table(pa.Table.from_pylist(rows, schema=SURVEY_SCHEMA))
    log.info("wrote %d curves (%d unreadable) to %s", len(files), unreadable, output)
    return {"output": str(output), "files": len(files), "unreadable": unreadable}


def _registered(model_uri: str) -> tuple[str, str]:
    """(registered name, version) behind a ``models:/`` URI; empty strings for any other."""
    if not model_uri.startswith("models:/"):
        return "", ""
    name, _, which = model_uri.removeprefix("models:/").partition("@")
    client = mlflow.MlflowClient()
    if which:
        return name, client.get_model_version_by_alias(name, which).version
    name, _, version = model_uri.removeprefix("models:/").partition("/")
    return name, version


def score_survey(model_uri: str, source, output, *, master: str = "local[*]", min_points: int | None = None) -> dict:
    """Score every star of ``source`` (Parquet as above) with the model through Spark; write ``output``.

    Returns:
        Counts (stars, predicted, errors, per label), seconds, curves per second, the output folder.
    """
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from vsexp.serving.batch import load_classifier

    classifier, _ = load_classifier(model_uri)
    min_points = classifier.min_points if min_points is None else min_points
    name, version = _registered(model_uri)
    spark = (SparkSession.builder.master(master).appName("vsexp predict")
             .config("spark.python.worker.reuse", "true").config("spark.ui.enabled", "false").getOrCreate())
    try:
        result_type = T.StructType([T.StructField("label", T.StringType()), T.StructField("probability", T.DoubleType()),
                                    T.StructField("n_points", T.DoubleType()),  # MLflow casts: no nulls in longs
                                    *[T.StructField(f"prob_{c}", T.DoubleType()) for c in classifier.class_names],
                                    T.StructField("error", T.StringType())])
        udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=result_type, env_manager="local",
                                      params={"min_points": min_points, "on_error": "row"})
        stars = spark.read.parquet(str(source))
        if "file" not in stars.columns:
            stars = stars.withColumn("file", F.lit(None).cast("string"))
        if "error" not in stars.columns:
            stars = stars.withColumn("error", F.lit(None).cast("string"))
        scored = stars.withColumn("scored", udf(F.struct("id", "times", "mags", "errors")))
        error = F.coalesce(F.col("error"), F.when(F.col("scored.error") != "", F.col("scored.error")))
        columns = [F.col("file"), F.col("id").cast("string"),
                   *[F.when(error.isNull(), F.col(f"scored.{c}")).alias(c)
                     for c in ("label", "probability", *[f"prob_{k}" for k in classifier.class_names])],
                   F.when(error.isNull(), F.col("scored.n_points").cast("long")).alias("n_points"),
                   error.alias("error"), F.when(error.isNull(), "predicted").otherwise("error").alias("status"),
                   F.lit(name).alias("model_name"), F.lit(version).alias("model_version"),
                   F.lit(OUTPUT_SCHEMA_VERSION).alias("schema_version")]
        started = time.perf_counter()
        scored.select(*columns).write.mode("overwrite").partitionBy("status").parquet(str(output))
        seconds = time.perf_counter() - started
        written = spark.read.parquet(str(output))
        counts = {row["label"]: row["count"] for row in written.groupBy("label").count().collect()}
    finally:
        spark.stop()
    stars_total = sum(counts.values())
    errors = counts.pop(None, 0)
    summary = {"output": str(output), "stars": stars_total, "predicted": stars_total - errors, "errors": errors,
               "per_label": dict(sorted(counts.items())), "master": master, "seconds": round(seconds, 1),
               "curves_per_s": round(stars_total / seconds, 1) if seconds > 0 else float("nan")}
    log.info("scored %d stars on Spark (%s) at %.0f curves/s: %d errors", stars_total, master,
             summary["curves_per_s"], errors)
    return summary
