"""The ``transfer`` study: a model trained on one survey, scored on another, then fine-tuned on a few
labelled curves of the new survey.

model (trained on survey A) + a target source (survey B, its classes renamed onto the model's by a
class map) -> for each shot count N: a copy of the network fine-tuned on N labelled curves per class
drawn from B's *training* split (N = 0: the model as it is) -> scored on B's test split (macro-F1
over the classes B has) -> a table, a figure and ``test_macro_f1_shots_<N>`` metrics in one run.
The shot sets are nested (the 10-curve set is part of the 50-curve set), so the curve shows what
more labels buy.
"""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from vsexp.dataset.build import build_dataset  # noqa: E402
from vsexp.errors import ConfigError  # noqa: E402
from vsexp.pipelines.evaluate import mapped_split, not_selected, target_data, training_data_config  # noqa: E402
from vsexp.serving.batch import load_classifier  # noqa: E402
from vsexp.tracking.runs import experiment_of_run, log_dataset, start_run  # noqa: E402
from vsexp.training.metrics import balanced_class_weights, evaluate_predictions  # noqa: E402

log = logging.getLogger(__name__)


def _shot_rows(table: pd.DataFrame, largest: int, seed: int) -> pd.DataFrame:
    """Up to ``largest`` rows per class in a seeded random order; the first N of each class are the N-shot set."""
    shuffled = table.sample(frac=1.0, random_state=seed)
    return shuffled.assign(rank=shuffled.groupby("label").cumcount()).query("rank < @largest")


def _fine_tuned(model, inputs, labels: np.ndarray, num_classes: int, epochs: int, learning_rate: float, seed: int):
    """A copy of ``model`` trained ``epochs`` epochs on (inputs, labels) with balanced class weights."""
    import keras

    keras.utils.set_random_seed(seed)
    tuned = keras.models.clone_model(model)
    tuned.set_weights(model.get_weights())
    tuned.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy")
    tuned.fit(inputs, keras.utils.to_categorical(labels, num_classes), epochs=epochs, batch_size=16, verbose=0,
              class_weight=balanced_class_weights(labels, num_classes))
    return tuned


def _subset(inputs: dict, mask: np.ndarray) -> dict:
    return {name: array[mask] for name, array in inputs.items()}


def transfer(model_uri: str, source: str, *, class_map: dict[str, str] | None = None, shots=(0, 10, 50),
             epochs: int = 30, learning_rate: float = 1e-4, seed: int = 0) -> dict:
    """Run the study; returns the summary printed as JSON (macro-F1 per shot count)."""
    if any(n < 0 for n in shots) or not shots:
        raise ConfigError(f"shots must be counts >= 0, got {list(shots)}")
    if epochs < 1 or learning_rate <= 0:
        raise ConfigError(f"fine-tuning needs epochs >= 1 and a learning rate > 0, got {epochs} and {learning_rate}")
    classifier, trained_run = load_classifier(model_uri)
    if max(shots) > 0 and not hasattr(getattr(classifier, "model", None), "get_weights"):
        raise ConfigError(f"model '{model_uri}' is not a single Keras network: only shots=0 can score it")
    class_map = class_map or {}
    names = classifier.class_names
    dataset = build_dataset(target_data(training_data_config(trained_run), source, class_map, names))
    index = {c: i for i, c in enumerate(names)}
    test, unknown = mapped_split(dataset, "test", names, class_map)
    unknown += not_selected(dataset)
    if test.empty:
        raise ConfigError(f"no test star of {dataset.manifest['name']} has a class the model knows ({', '.join(names)}); "
                          "give a class map, e.g. RRab=RRL,EW=ECLP")
    present = sorted(set(test["label"]), key=index.get)
    pool = _shot_rows(mapped_split(dataset, "train", names, class_map)[0], max(shots), seed)

    def inputs_of(table):
        curves = dataset.curves_from(table)
        return classifier.transform.inputs([(c.times, c.mags, c.errors) for c in curves])

    test_labels, pool_labels = test["label"].map(index).to_numpy(), pool["label"].map(index).to_numpy()
    if max(shots) > 0:  # a Keras network: its test inputs are made once and serve every shot count
        test_inputs, pool_inputs = inputs_of(test), inputs_of(pool)
        as_is = classifier.predict_inputs(test_inputs)
    else:
        as_is = classifier.predict_curves(dataset.curves_from(test))
    rows = []
    for n in sorted(set(shots)):
        if n == 0:
            probabilities = as_is
        else:
            chosen = (pool["rank"] < n).to_numpy()
            model = _fine_tuned(classifier.model, _subset(pool_inputs, chosen), pool_labels[chosen], len(names),
                                epochs, learning_rate, seed)
            probabilities = model.predict(test_inputs, batch_size=512, verbose=0)
        result = evaluate_predictions(test_labels, np.asarray(probabilities, float), names, interval=False)
        rows.append({"shots_per_class": n, "curves_used": int((pool["rank"] < n).sum()),
                     "macro_f1": float(np.mean([result["per_class"][c]["f1"] for c in present])),
                     "accuracy": result["scalars"]["accuracy"],
                     **{f"f1_{c}": result["per_class"][c]["f1"] for c in present}})
        log.info("transfer with %d labelled curves per class: macro-F1 %.4f", n, rows[-1]["macro_f1"])
    table = pd.DataFrame(rows)
    with start_run("transfer", entry_point="transfer", experiment=experiment_of_run(trained_run),
                   tags={"vsexp.model_uri": model_uri, "vsexp.trained_run": trained_run,
                         "vsexp.dataset": dataset.manifest["name"]}) as run:
        mlflow.log_params({"transfer.model_uri": model_uri, "data.source": source, "transfer.shots": ",".join(map(str, shots)),
                           "transfer.class_map": ",".join(f"{k}={v}" for k, v in class_map.items()),
                           "transfer.epochs": epochs, "transfer.learning_rate": learning_rate, "transfer.seed": seed})
        log_dataset(dataset, contexts=("train", "test"))
        mlflow.log_table(table, "transfer/table.json")
        mlflow.log_metrics({f"test_macro_f1_shots_{r['shots_per_class']}": r["macro_f1"] for r in rows})
        figure, axis = plt.subplots(figsize=(5.5, 4))
        axis.plot(table["shots_per_class"], table["macro_f1"], marker="o")
        axis.set(xlabel="labelled target curves per class (fine-tuning)", ylabel="test macro-F1 (present classes)",
                 title=f"transfer to {dataset.manifest['name']}")
        figure.tight_layout()
        mlflow.log_figure(figure, "transfer/macro_f1_vs_shots.png")
        plt.close(figure)
    return {"run_id": run.info.run_id, "model_uri": model_uri, "dataset": dataset.manifest["name"],
            "test_stars": len(test), "unknown_class": unknown, "classes": present,
            "macro_f1_by_shots": {int(r["shots_per_class"]): round(r["macro_f1"], 4) for r in rows}}
