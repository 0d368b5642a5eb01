"""The comparison report: this project's runs beside the paper's Tables 2, 3 and 4.

``build_report`` reads the tracking store (``mlflow.search_runs``) for finished training runs and
writes ``report.md`` and ``report.html`` into a folder, with each run's confusion matrices and
learning curves copied beside them:

- Tables 2 and 3 layout: accuracy, macro precision/recall/F1 (the paper's averages) and weighted
  F1, per survey and model, the paper's published row under each group.
- Table 4 layout: the CRTS confusions the paper discusses (RRab, RRc and LPV rows), from each
  CRTS run's row-normalised test confusion matrix, beside the paper's 2D CNN and CNN-LSTM values.
"""

from __future__ import annotations

import html
import json
import logging
import shutil
from pathlib import Path

import mlflow
import pandas as pd

from vsexp.errors import ConfigError
from vsexp.reports.paper import PAPER_TABLE4, paper_row

log = logging.getLogger(__name__)

METRICS = ("test_accuracy", "test_macro_precision", "test_macro_recall", "test_macro_f1", "test_weighted_f1")


def model_title(name: str) -> str:
    """A model family's title for tables (``1D CNN-LSTM``), or the name of one this version does not know."""
    from vsexp.models.registry import family

    try:
        return family(name).title
    except ConfigError:
        return name


def training_runs(experiment_names: list[str] | None = None) -> pd.DataFrame:
    """Finished training runs (one row each) with their tags, main params and test metrics."""
    experiments = experiment_names or [e.name for e in mlflow.search_experiments()]
    runs = mlflow.search_runs(experiment_names=experiments, filter_string="attributes.status = 'FINISHED'",
                              output_format="pandas")
    if runs.empty or "tags.vsexp.model" not in runs:
        return pd.DataFrame()
    runs = runs[runs["tags.vsexp.model"].notna() & runs.get("metrics.test_macro_f1", pd.Series(dtype=float)).notna()]
    return runs.sort_values(["tags.vsexp.survey", "tags.vsexp.model", "start_time"])


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.3f}"


def metrics_table(runs: pd.DataFrame) -> str:
    rows = []
    for (survey, model), group in runs.groupby(["tags.vsexp.survey", "tags.vsexp.model"], sort=True):
        for _, run in group.iterrows():
            epochs = run.get("metrics.epochs_run")
            rows.append([survey, model_title(model), f"`{run['run_id'][:8]}`",
                         "-" if pd.isna(epochs) else str(int(epochs)),
                         *[_fmt(run.get(f"metrics.{m}")) for m in METRICS]])
        paper = paper_row(survey, model)
        if paper:
            rows.append([survey, model_title(model), "**paper**", "100",
                         *[_fmt(paper.get(m.removeprefix("test_"))) for m in METRICS]])
    return _table(rows, ["survey", "model", "run", "epochs", "accuracy", "macro P", "macro R", "macro F1", "weighted F1"])


def _normalised_confusion(run_id: str, folder: Path) -> pd.DataFrame | None:
    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="evaluation/test/confusion_normalised.json",
                                                   dst_path=str(folder))
    except mlflow.exceptions.MlflowException:
        return None
    table = json.loads(Path(path).read_text())
    return pd.DataFrame(table["data"], columns=table["columns"]).set_index("true")


def table4(runs: pd.DataFrame, scratch: Path) -> str:
    crts = runs[runs["tags.vsexp.survey"].str.contains("crts", na=False)]
    header = ["true", "predicted", "paper 2D CNN", "paper CNN-LSTM"]
    columns = []
    for _, run in crts.iterrows():
        confusion = _normalised_confusion(run["run_id"], scratch / run["run_id"])
        if confusion is not None:
            header.append(f"{run['tags.vsexp.survey']} {model_title(run['tags.vsexp.model'])} `{run['run_id'][:8]}`")
            columns.append(confusion)
    rows = []
    for (true, predicted), (cnn, lstm) in PAPER_TABLE4.items():
        values = [_fmt(c.loc[true, predicted]) if true in c.index and predicted in c.columns else "-" for c in columns]
        rows.append([true, predicted, f"{cnn:.2f}", f"{lstm:.2f}", *values])
    return _table(rows, header)


def _copy_figures(runs: pd.DataFrame, folder: Path) -> list[tuple[str, str, str]]:
    figures = []
    for _, run in runs.iterrows():
        for artifact in ("evaluation/test/confusion_normalised.png", "learning_curves.png"):
            try:
                path = mlflow.artifacts.download_artifacts(run_id=run["run_id"], artifact_path=artifact)
            except mlflow.exceptions.MlflowException:
                continue
            name = f"{run['run_id'][:8]}-{Path(artifact).name}"
            shutil.copy(path, folder / name)
            figures.append((f"{run['tags.vsexp.survey']} {model_title(run['tags.vsexp.model'])} `{run['run_id'][:8]}`",
                            Path(artifact).stem.replace("_", " "), name))
    return figures


def build_report(output_dir, experiment_names: list[str] | None = None) -> dict:
    """Write ``report.md`` and ``report.html`` to ``output_dir``; returns paths and counts."""
    folder = Path(output_dir)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    runs = training_runs(experiment_names)
    if runs.empty:
        body = "No finished training runs in the tracking store yet."
        figures = []
    else:
        scratch = folder / ".artifacts"
        figures = _copy_figures(runs, folder / "figures")
        body = "\n\n".join([
            "## Tables 2 and 3: test metrics beside the paper",
            "Precision, recall and F1 are class averages (macro), as in the paper; the paper's rows are its published numbers.",
            metrics_table(runs),
            "## Table 4: CRTS confusions (share of each true class)",
            table4(runs, scratch),
        ])
        shutil.rmtree(scratch, ignore_errors=True)
    markdown = "# vsexp report\n\n" + body + "\n\n## Figures\n\n" + "\n".join(
        f"- {who}, {what}: ![{what}](figures/{name})" for who, what, name in figures) + "\n"
    (folder / "report.md").write_text(markdown)
    (folder / "report.html").write_text(_html(markdown))
    return {"report": str(folder / "report.md"), "html": str(folder / "report.html"), "runs": len(runs),
            "figures": len(figures)}


def _html(markdown: str) -> str:
    """A small Markdown-to-HTML rendering of the report's own constructs (headings, tables, images)."""
    out, in_table = ["<html><head><meta charset='utf-8'><title>vsexp report</title><style>"
                     "table{border-collapse:collapse}td,th{border:1px solid #aaa;padding:2px 6px}img{max-width:480px}"
                     "</style></head><body>"], False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()).replace("**", "") for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                out.append("<table>")
                in_table, tag = True, "th"
            else:
                tag = "td"
            out.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- ") and "![" in line:
            text, _, rest = line[2:].partition(": ![")
            source = rest[rest.index("(") + 1: rest.rindex(")")]
            out.append(f"<p>{html.escape(text)}<br><img src='{html.escape(source)}'></p>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out + ["</body></html>"])
