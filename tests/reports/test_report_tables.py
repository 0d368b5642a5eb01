"""Report tables: the paper's rows sit under each survey/model group."""

import pandas as pd

from vsexp.reports.comparison import comparison_markdown
from vsexp.reports.report import metrics_table


def test_metrics_table_puts_paper_row_under_each_group():
    runs = pd.DataFrame([
        {"run_id": "abcdef123456", "tags.vsexp.survey": "crts", "tags.vsexp.model": "lstm", "metrics.epochs_run": 12,
         "metrics.test_accuracy": 0.7, "metrics.test_macro_precision": 0.6, "metrics.test_macro_recall": 0.61,
         "metrics.test_macro_f1": 0.6, "metrics.test_weighted_f1": 0.68},
    ])
    table = metrics_table(runs).splitlines()
    assert table[2].startswith("| crts | 1D CNN-LSTM | `abcdef12` | 12 | 0.700 |")
    assert table[3] == "| crts | 1D CNN-LSTM | **paper** | 100 | 0.666 | 0.460 | 0.530 | 0.490 | - |"


def test_comparison_markdown_for_synthetic_survey_uses_paper_numbers():
    text = comparison_markdown([{"survey": "synthetic-ogle", "model": "cnn", "run_id": "0123456789",
                                 "test_macro_f1": 0.9}])
    assert "| synthetic-ogle | cnn | paper | 0.975 | 0.810 | 0.910 | 0.850 | - |" in text
