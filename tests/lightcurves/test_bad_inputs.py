"""The bad-input corpus in tests/data/bad: every file gets its own clear outcome, none is lost."""

import pytest

from vsexp.errors import LightCurveError
from vsexp.lightcurves.readers import iter_folder, read_file

EXPECTED_REJECTIONS = {
    "empty.csv": "empty",
    "header_only.csv": "empty",
    "non_numeric.csv": "non_numeric",
    "missing_column.csv": "missing_column",
    "binary_junk.csv": "unreadable",
    "truncated.csv.gz": "unreadable",
    "too_few_points.csv": "too_few_points",
    "unlabelled.csv": "unlabelled",
    "labels.csv": "missing_file",  # the labels table names 'ghost', which has no file
}
EXPECTED_ACCEPTED = {
    "good_a": {}, "good_b": {}, "unknown_label": {},
    "nan_values": {"non_finite": 3},
    "unsorted": {"curve_sorted": 1},
    "duplicate_times": {"duplicate_time_merged": 3},
    "nonpositive_errors": {"non_positive_error": 2},
}


def test_every_file_has_its_outcome(data_dir):
    items = list(iter_folder(data_dir / "bad", min_points=10, require_labels=True))
    rejected = {str(i.source).rsplit("/", 1)[-1]: i.reason for i in items if isinstance(i, LightCurveError)}
    accepted = {i.object_id: i.row_counts for i in items if not isinstance(i, LightCurveError)}
    assert rejected == EXPECTED_REJECTIONS
    assert accepted == EXPECTED_ACCEPTED
    files = len(list((data_dir / "bad/lightcurves").iterdir()))
    assert len(items) == files + 1  # every file once, plus the labels row naming a missing file


@pytest.mark.parametrize("name, reason, words", [
    ("non_numeric.csv", "non_numeric", "column 'mag' has 3 non-numeric values"),
    ("missing_column.csv", "missing_column", "no column 'magerr'"),
    ("too_few_points.csv", "too_few_points", "5 valid points, at least 10 required"),
    ("empty.csv", "empty", "file is empty"),
])
def test_rejection_message_names_file_and_problem(data_dir, name, reason, words):
    path = data_dir / "bad/lightcurves" / name
    with pytest.raises(LightCurveError) as caught:
        read_file(path, min_points=10)
    assert caught.value.reason == reason
    assert str(path) in str(caught.value) and words in str(caught.value)
