"""The model card registered with every model version: what it was trained on, how well it does
(with intervals and per class), what it needs, what it is for and where it is known to fail."""

from __future__ import annotations

import datetime

HEADLINE = (("macro-F1", "macro_f1"), ("weighted F1", "weighted_f1"), ("accuracy", "accuracy"),
            ("balanced accuracy", "balanced_accuracy"))


def _percent(metrics: dict, key: str) -> str:
    return f"{metrics[key]:.1%}" if key in metrics else "-"


def _value(metrics: dict, key: str) -> str:
    return f"{metrics[key]:.3f}" if key in metrics else "-"


def model_card(*, registered_model: str, model: str, inputs: str, data: dict, classes: list[str], metrics: dict,
               split: str, min_points: int, run_id: str, commit: str | None, fitted_on: str,
               unknown_threshold: float = 0.0) -> str:
    """A Markdown model card.

    Args:
        registered_model / model: the registered name and a readable model description.
        inputs: the representations the model computes from raw curves.
        data: ``source``, ``survey`` (``crts``, ``synthetic-ogle``...), ``name``, ``stars`` of the data set.
        metrics: the flat metrics of ``split`` (``<split>_macro_f1``, ``<split>_f1_<class>``...).
        fitted_on: what the model was fitted on (``train``, ``train + 4 thinned copies``...).
        unknown_threshold: the calibrated top probability below which it answers ``unknown`` (0: never).
    """
    rows = [f"| {label} | {_value(metrics, f'{split}_{key}')} | "
            + (f"[{_value(metrics, f'{split}_macro_f1_ci_low')}, {_value(metrics, f'{split}_macro_f1_ci_high')}]"
               if key == "macro_f1" else "") + " |" for label, key in HEADLINE]
    per_class = [f"| {c} | {_value(metrics, f'{split}_precision_{c}')} | {_value(metrics, f'{split}_recall_{c}')} | "
                 f"{_value(metrics, f'{split}_f1_{c}')} | {int(metrics.get(f'{split}_support_{c}', 0))} |" for c in classes]
    synthetic = data["survey"].startswith("synthetic-")
    if "Other" in classes or unknown_threshold > 0:
        caught = metrics.get(f"{split}_other_called_other_or_unknown")
        says_none = (f"A star of another type can be called `Other` (a class learnt from the catalogue's other classes)"
                     if "Other" in classes else "A star of another type gets one of these labels")
        if unknown_threshold > 0:
            says_none += (f", or `unknown` when its calibrated top probability is below {unknown_threshold:.3f} "
                          f"({_percent(metrics, f'{split}_unknown_share_named')} of the {split} stars of the named classes)")
        if caught is not None:
            says_none += f"; {caught:.0%} of the {split} split's Other stars were called Other or unknown"
        first_limit = says_none + "; read `probability` before trusting a label."
    else:
        first_limit = (f"Every star is called one of these {len(classes)} classes: a star of another type gets one of "
                       "their labels (there is no 'other' class and no rejection threshold); read `probability` before "
                       "trusting a label.")
    limits = [
        first_limit,
        f"Measured on {'simulated' if synthetic else 'real'} {data['survey'].removeprefix('synthetic-').upper()} "
        "light curves split by star; another survey's cadence, depth and noise differ: score it there first "
        "(`vsexp evaluate --model ... --data SOURCE`).",
    ]
    if synthetic:
        limits.append("The data are the survey simulator's: these numbers describe simulated stars, not real ones.")
    if metrics.get(f"{split}_macro_f1_ci_high", 1) - metrics.get(f"{split}_macro_f1_ci_low", 0) > 0.05:
        limits.append(f"The {split} split is small: the macro-F1 interval is wide.")
    weakest = min(classes, key=lambda c: metrics.get(f"{split}_f1_{c}", 1.0))
    limits.append(f"Weakest class: {weakest} (F1 {_value(metrics, f'{split}_f1_{weakest}')} on {split}).")
    return "\n".join([
        f"# {registered_model}",
        "",
        f"**Model**: {model}; computes its inputs ({inputs}) inside, from raw light curves.  ",
        f"**Data**: {data['name']} ({data['source']}, {data['stars']} stars), classes {', '.join(classes)}; "
        f"fitted on {fitted_on}.  ",
        f"**Minimum points**: {min_points}: shorter curves are refused (served: HTTP 400 naming the curve).  ",
        f"**Provenance**: run `{run_id}`, {f'commit `{commit}`' if commit else 'no git checkout'}, "
        f"{datetime.date.today().isoformat()}.",
        "",
        f"## Metrics ({split} split, scored once; 95% bootstrap interval)",
        "",
        "| metric | value | interval |",
        "|---|---|---|",
        *rows,
        "",
        f"## Per class ({split})",
        "",
        "| class | precision | recall | F1 | stars |",
        "|---|---|---|---|---|",
        *per_class,
        "",
        "## Intended use",
        "",
        f"Classifying variable stars of the classes above from their raw light curves (times, magnitudes, "
        f"errors; at least {min_points} points), as a first sort of a catalogue, with the probability of each "
        "class. Not a detector of variability and not calibrated for stars outside these classes.",
        "",
        "## Known limits",
        "",
        *[f"- {line}" for line in limits],
        "",
    ])
