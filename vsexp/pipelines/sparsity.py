"""The ``sparsity`` study: how each model's test metrics fall as light curves get sparser.

Each registered model is scored on the test split of its own training data (the same stars for
every model that shares the data), with every curve cut to N points (N in ``points``) in two ways:

- ``random``: N points drawn at random (seeded);
- ``seasons``: whole observing seasons (runs of points separated by gaps > 60 days) are dropped at
  random until at most N points remain, then the rest is cut to N at random — what a short or
  interrupted survey sees.

Logs one run with a table (model x mode x N -> macro-F1, accuracy) and a figure per mode, and
reports for each model the smallest N at which it still matches the reference model (the feature
forest by default).
"""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from vsexp.config import SPARSITY_MODES, check_choices  # noqa: E402
from vsexp.dataset.build import build_dataset  # noqa: E402
from vsexp.errors import ConfigError  # noqa: E402
from vsexp.lightcurves.record import LightCurve  # noqa: E402
from vsexp.pipelines.evaluate import training_data_config  # noqa: E402
from vsexp.serving.batch import load_classifier  # noqa: E402
from vsexp.tracking.runs import experiment_of_run, start_run  # noqa: E402
from vsexp.training.metrics import evaluate_predictions  # noqa: E402

MODES = SPARSITY_MODES
SEASON_GAP_DAYS = 60.0


def thin(curve: LightCurve, points: int, mode: str, rng: np.random.Generator) -> LightCurve:
    """The curve cut to at most ``points`` points (times stay sorted)."""
    keep = np.arange(len(curve))
    if mode == "seasons":
        season = np.concatenate([[0], np.cumsum(np.diff(curve.times) > SEASON_GAP_DAYS)])
        for dropped in rng.permutation(season.max() + 1):
            remaining = keep[season[keep] != dropped]
            if len(keep) <= points or len(remaining) < 2:  # enough dropped, or only one season left
                break
            keep = remaining
    if len(keep) > points:
        keep = np.sort(rng.choice(keep, points, replace=False))
    return LightCurve(curve.object_id, curve.times[keep], curve.mags[keep], curve.errors[keep], curve.label,
                      curve.survey)


def sparsity(model_uris: list[str], points=(20, 40, 60, 100, 200), modes=MODES, seed: int = 0,
             reference: str | None = None) -> dict:
    """Run the study; ``reference`` (a model URI in ``model_uris``) defaults to the first forest."""
    if not model_uris:
        raise ConfigError("sparsity needs at least one model (--model URI, repeatable)")
    check_choices("sparsity mode", modes, MODES)
    if any(n < 2 for n in points):
        raise ConfigError(f"points must all be >= 2, got {list(points)}")
    models = {uri: load_classifier(uri) for uri in model_uris}
    test_curves = {}  # per training data: models trained on the same data share the test stars
    rows = []
    for uri, (classifier, run_id) in models.items():
        data = training_data_config(run_id)
        if data not in test_curves:
            test_curves[data] = build_dataset(data).curves("test")
        curves = test_curves[data]
        index = {c: i for i, c in enumerate(classifier.class_names)}
        labels = np.array([index[c.label] for c in curves])
        for mode in modes:
            for n in points:
                rng = np.random.default_rng(seed)
                thinned = [thin(c, n, mode, rng) for c in curves]
                result = evaluate_predictions(labels, classifier.predict_curves(thinned), classifier.class_names,
                                              interval=False)
                rows.append({"model": uri, "kind": "+".join(classifier.transform.names), "mode": mode, "points": n,
                             "median_points": float(np.median([len(c) for c in thinned])),
                             "macro_f1": result["scalars"]["macro_f1"], "accuracy": result["scalars"]["accuracy"]})
    table = pd.DataFrame(rows)
    reference = reference or next((u for u in model_uris if models[u][0].transform.names == ("features",)), None)
    summary = {"rows": rows}
    if reference:
        summary["reference"] = reference
        summary["below_reference_at"] = _below_reference(table, reference)
    with start_run("sparsity", entry_point="sparsity", experiment=experiment_of_run(models[model_uris[0]][1])) as run:
        mlflow.log_params({"sparsity.models": ",".join(model_uris)[:500], "sparsity.points": ",".join(map(str, points)),
                           "sparsity.modes": ",".join(modes), "sparsity.seed": seed, "sparsity.reference": reference or ""})
        mlflow.log_table(table, "sparsity/table.json")
        for mode in modes:
            figure, axis = plt.subplots(figsize=(6, 4))
            for uri, group in table[table["mode"] == mode].groupby("model"):
                axis.plot(group["points"], group["macro_f1"], marker="o", label=uri)
            axis.set(xscale="log", xlabel="points per curve", ylabel="test macro-F1", title=f"sparsity ({mode})")
            axis.legend(fontsize=7)
            figure.tight_layout()
            mlflow.log_figure(figure, f"sparsity/{mode}.png")
            plt.close(figure)
        summary["run_id"] = run.info.run_id
    return summary


def _below_reference(table: pd.DataFrame, reference: str) -> dict:
    """For each model and mode, the N values at which its macro-F1 is below the reference's."""
    out = {}
    ref = table[table["model"] == reference].set_index(["mode", "points"])["macro_f1"]
    for (uri, mode), group in table[table["model"] != reference].groupby(["model", "mode"]):
        out[f"{uri} ({mode})"] = [int(row.points) for row in group.itertuples()
                                  if row.macro_f1 < ref.get((mode, row.points), -1)]
    return out
