"""Logging an evaluation to MLflow: scalars, per-class metrics, confusion matrices, report, figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def confusion_figure(matrix: np.ndarray, class_names: list[str], title: str, normalised: bool):
    figure, axis = plt.subplots(figsize=(1.0 + 0.8 * len(class_names), 0.8 + 0.7 * len(class_names)))
    image = axis.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalised else None)
    axis.set(xticks=range(len(class_names)), yticks=range(len(class_names)), xticklabels=class_names,
             yticklabels=class_names, xlabel="predicted", ylabel="true", title=title)
    plt.setp(axis.get_xticklabels(), rotation=45, ha="right")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        axis.text(j, i, f"{value:.2f}" if normalised else f"{int(value)}", ha="center", va="center",
                  color="white" if value > threshold else "black", fontsize=8)
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    return figure


def learning_curves_figure(history: dict[str, list[float]]):
    names = [n for n in ("loss", "accuracy", "macro_f1") if n in history]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], label="validation")
        axis.set(xlabel="epoch", title=name)
        axis.legend()
    figure.tight_layout()
    return figure


def log_evaluation(result: dict, class_names: list[str], split: str) -> dict[str, float]:
    """Log ``evaluate_predictions`` output for ``split``; returns the flat metrics logged."""
    flat = {f"{split}_{k}": v for k, v in result["scalars"].items() if np.isfinite(v)}
    for name, values in result["per_class"].items():
        flat.update({f"{split}_{metric}_{name}": float(v) for metric, v in values.items()})
    mlflow.log_metrics(flat)
    folder = f"evaluation/{split}"
    per_class = pd.DataFrame(result["per_class"]).T.rename_axis("class")
    mlflow.log_table(per_class.reset_index(), f"{folder}/per_class.json")
    for key, normalised in (("confusion", False), ("confusion_normalised", True)):
        frame = pd.DataFrame(result[key], index=class_names, columns=class_names).rename_axis("true")
        mlflow.log_table(frame.reset_index(), f"{folder}/{key}.json")
        figure = confusion_figure(result[key], class_names, f"{split} ({'row-normalised' if normalised else 'counts'})",
                                  normalised)
        mlflow.log_figure(figure, f"{folder}/{key}.png")
        plt.close(figure)
    mlflow.log_text(result["report"], f"{folder}/classification_report.txt")
    return flat


def log_history(history: dict[str, list[float]]) -> None:
    if history:
        figure = learning_curves_figure(history)
        mlflow.log_figure(figure, "learning_curves.png")
        plt.close(figure)
        mlflow.log_dict(history, "history.json")


def reliability_figure(curves: dict[str, dict], title: str):
    """Reliability diagram: accuracy against confidence per bin, one line per model (ECE in the legend)."""
    figure, axis = plt.subplots(figsize=(5, 4.5))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, curve in curves.items():
        axis.plot([b["confidence"] for b in curve["bins"]], [b["accuracy"] for b in curve["bins"]], marker="o",
                  label=f"{name} (ECE {curve['ece']:.3f})")
    axis.set(xlabel="confidence (top-label probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=title)
    axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    return figure


def log_reliability(curves: dict[str, dict], split: str) -> None:
    """Log a reliability diagram and its table for ``split`` ({model name: ``reliability`` output})."""
    figure = reliability_figure(curves, f"reliability ({split})")
    mlflow.log_figure(figure, f"evaluation/{split}/reliability.png")
    plt.close(figure)
    rows = [{"model": name, **row} for name, curve in curves.items() for row in curve["bins"]]
    mlflow.log_table(pd.DataFrame(rows), f"evaluation/{split}/reliability.json")
