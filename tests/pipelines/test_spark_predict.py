"""Scoring a survey on Spark (local mode) through the registered pyfunc: the same rows as `vsexp
predict` on one machine, bad files included, in the documented output schema."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vsexp.pipelines.outputs import convert, predict
from vsexp.pipelines.train import train
from vsexp.presets import load_preset
from vsexp.serving.spark import OUTPUT_SCHEMA_VERSION

pytestmark = [pytest.mark.slow, pytest.mark.spark]

DATA = Path(__file__).resolve().parents[1] / "data"


def test_spark_scoring_equals_vsexp_predict_row_for_row(tmp_path, isolated_workspace):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java for Spark (Debian: openjdk-17-jre-headless)")
    model = train(load_preset("tiny", "baseline"))
    folder = tmp_path / "survey"
    shutil.copytree(DATA / "crts" / "lightcurves", folder / "crts")
    shutil.copytree(DATA / "bad" / "lightcurves", folder / "bad")  # unreadable, short, NaN... files
    local = predict(model["model_uri"], str(folder), str(tmp_path / "local.parquet"))
    converted = convert(str(folder), str(tmp_path / "survey.parquet"))
    spark = predict(model["model_uri"], converted["output"], str(tmp_path / "spark"), engine="spark", master="local[1]")

    here = pd.read_parquet(local["output"]).sort_values("file").reset_index(drop=True)
    there = pd.read_parquet(spark["output"]).sort_values("file").reset_index(drop=True)
    assert here["file"].tolist() == there["file"].tolist() and len(here) == converted["files"] == spark["stars"]
    assert spark["errors"] == local["errors"] > 0 and spark["predicted"] == local["predicted"] > 0
    predicted = here["error"].isna()
    assert predicted.tolist() == there["error"].isna().tolist()
    assert here.loc[predicted, "label"].tolist() == there.loc[predicted, "label"].astype(str).tolist()
    probabilities = [c for c in here.columns if c.startswith("prob_")]
    np.testing.assert_allclose(there.loc[predicted, probabilities].to_numpy(float),
                               here.loc[predicted, probabilities].to_numpy(float), rtol=0, atol=1e-12)
    assert (there.loc[predicted, "n_points"].to_numpy() == here.loc[predicted, "n_points"].to_numpy()).all()
    reasons = [e.split(":")[0] for e in here.loc[~predicted, "error"]]
    assert reasons == [e.split(":")[0] for e in there.loc[~predicted, "error"]]
    assert set(there["model_name"]) == {model["registered_model"]} and set(there["model_version"]) == {model["version"]}
    assert set(there["schema_version"]) == {OUTPUT_SCHEMA_VERSION}
    assert sorted(p.name for p in Path(spark["output"]).iterdir() if p.is_dir()) == ["status=error", "status=predicted"]
