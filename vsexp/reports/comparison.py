"""A Markdown comparison of runs' test metrics beside the paper's numbers."""

from __future__ import annotations

from vsexp.reports.paper import paper_row

COLUMNS = ("accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_f1")


def comparison_markdown(rows: list[dict]) -> str:
    """``rows``: dicts with survey, model, run_id and ``test_<metric>`` values."""
    header = "| survey | model | source | " + " | ".join(COLUMNS) + " |"
    lines = [header, "|---" * (len(COLUMNS) + 3) + "|"]
    for row in rows:
        values = " | ".join(f"{row[f'test_{c}']:.3f}" if f"test_{c}" in row else "-" for c in COLUMNS)
        lines.append(f"| {row['survey']} | {row['model']} | run {row['run_id'][:8]} | {values} |")
        paper = paper_row(row["survey"], row["model"])
        if paper:
            lines.append(f"| {row['survey']} | {row['model']} | paper | "
                         + " | ".join(f"{paper[c]:.3f}" if c in paper else "-" for c in COLUMNS) + " |")
    return "\n".join(lines)
