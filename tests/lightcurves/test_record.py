"""Validation rules of the light-curve record, one hand-made case each."""

import numpy as np
import pytest

from vsexp.errors import LightCurveError
from vsexp.lightcurves.record import RejectionReport, clean


def test_clean_sorts_merges_and_counts():
    curve = clean("s", [3.0, 1.0, 2.0, 2.0, 4.0], [13.0, 11.0, 12.0, 14.0, 15.0], [0.1, 0.1, 0.1, 0.1, 0.1], min_points=3)
    np.testing.assert_array_equal(curve.times, [1, 2, 3, 4])
    assert curve.mags[1] == pytest.approx(13.0)  # equal-weight mean of 12 and 14
    assert curve.errors[1] == pytest.approx(0.1 / np.sqrt(2))
    assert curve.row_counts == {"curve_sorted": 1, "duplicate_time_merged": 1}


def test_duplicate_merge_is_inverse_variance_weighted():
    curve = clean("s", [1, 1, 2, 3], [10.0, 12.0, 1, 1], [0.1, 0.2, 1, 1], min_points=2)
    w = np.array([100.0, 25.0])
    assert curve.mags[0] == pytest.approx((w * [10, 12]).sum() / w.sum())


def test_non_finite_and_non_positive_error_rows_removed():
    curve = clean("s", [1, 2, np.nan, 4, 5, 6], [1, np.inf, 3, 4, 5, 6], [0.1, 0.1, 0.1, 0.0, -1, 0.1], min_points=2)
    assert curve.row_counts == {"non_finite": 2, "non_positive_error": 2}
    np.testing.assert_array_equal(curve.times, [1, 6])


def test_too_few_points_names_object_and_reason():
    with pytest.raises(LightCurveError, match="star-7: 2 valid points") as caught:
        clean("star-7", [1, 2, np.nan], [1, 2, 3], [1, 1, 1], min_points=3)
    assert caught.value.reason == "too_few_points"


def test_length_mismatch_and_non_numeric():
    with pytest.raises(LightCurveError, match="differ in length"):
        clean("s", [1, 2], [1], [1, 1], min_points=1)
    with pytest.raises(LightCurveError, match="not all numbers"):
        clean("s", ["a", "b"], [1, 2], [1, 1], min_points=1)


def test_report_counts_reasons_and_rows():
    report = RejectionReport()
    report.accept(clean("a", [2, 1], [1, 1], [1, 1], min_points=1))
    report.reject(LightCurveError("b.csv", "empty", "file is empty"))
    assert report.to_dict()["rejected_by_reason"] == {"empty": 1}
    assert report.row_counts["curve_sorted"] == 1
    assert "accepted 1, rejected 1" in report.summary()
