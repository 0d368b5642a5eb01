"""The paper's published results (Tables 2, 3 and 4), for side-by-side comparison.

Precision, recall and F1 in the paper's tables are class averages (macro): accuracy is far above
F1, so they cannot be weighted by class size.
"""

PAPER_TABLES = {
    # (survey, model): accuracy, precision, recall, F1 — Table 2 (2D CNN) and Table 3 (CNN-LSTM)
    ("ogle", "cnn"): {"accuracy": 0.975, "macro_precision": 0.81, "macro_recall": 0.91, "macro_f1": 0.85},
    ("crts", "cnn"): {"accuracy": 0.745, "macro_precision": 0.56, "macro_recall": 0.52, "macro_f1": 0.54},
    ("ogle", "lstm"): {"accuracy": 0.850, "macro_precision": 0.64, "macro_recall": 0.81, "macro_f1": 0.71},
    ("crts", "lstm"): {"accuracy": 0.666, "macro_precision": 0.46, "macro_recall": 0.53, "macro_f1": 0.49},
}

# Table 4: CRTS confusions, share of each true class predicted as a class (2D CNN, CNN-LSTM)
PAPER_TABLE4 = {
    ("RRab", "RRab"): (0.29, 0.55), ("RRab", "EW"): (0.51, 0.22),
    ("RRc", "RRc"): (0.42, 0.45), ("RRc", "EW"): (0.50, 0.41),
    ("LPV", "LPV"): (0.69, 0.80), ("LPV", "RRab"): (0.13, 0.06),
}


def paper_row(survey: str, model: str) -> dict | None:
    """The paper's numbers for a survey (``ogle``/``crts``, synthetic or real) and model."""
    return PAPER_TABLES.get((survey.removeprefix("synthetic-"), model))
