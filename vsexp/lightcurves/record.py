"""The light-curve record, its validation, and the report of what validation removed.

A ``LightCurve`` holds one star's photometry. ``clean`` turns raw arrays into a valid record:
non-finite rows and rows with non-positive errors are removed, times are sorted, exposures that
share a timestamp are merged (inverse-variance weighted mean), and a curve left with fewer than
``min_points`` points is rejected. Every removal is counted in ``LightCurve.row_counts``; every
rejection raises ``LightCurveError`` naming the object and the reason, and a ``RejectionReport``
collects them so that nothing is dropped silently.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from typing import Any

import numpy as np

from vsexp.errors import LightCurveError

log = logging.getLogger(__name__)

DEFAULT_MIN_POINTS = 100  # the paper keeps light curves with at least 100 points


@dataclasses.dataclass
class LightCurve:
    """One star's light curve.

    Attributes:
        object_id: survey identifier of the star.
        times: [n] observation times in days (MJD or HJD), sorted, unique.
        mags: [n] magnitudes.
        errors: [n] magnitude uncertainties, all > 0.
        label: class name, or None when unknown.
        survey: survey the photometry comes from (``ogle``, ``crts``, ``synthetic-ogle``, ...).
        metadata: anything else the reader knows (subtype, coordinates, simulated period...).
        row_counts: rows removed or merged by cleaning, per kind (``curve_sorted`` counts the curve).
    """

    object_id: str
    times: np.ndarray
    mags: np.ndarray
    errors: np.ndarray
    label: str | None = None
    survey: str = "unknown"
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    row_counts: dict[str, int] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.times.size)


def clean(
    object_id: str,
    times,
    mags,
    errors,
    *,
    min_points: int = DEFAULT_MIN_POINTS,
    source: str | None = None,
    **fields,
) -> LightCurve:
    """Validate raw arrays and return a clean ``LightCurve``.

    Args:
        object_id: the star's id.
        times, mags, errors: [n] array-likes of equal length.
        min_points: minimum number of points left after cleaning.
        source: what to name in error messages (a file path); defaults to ``object_id``.
        **fields: passed to ``LightCurve`` (label, survey, metadata).

    Returns:
        A ``LightCurve`` with sorted unique times and ``row_counts`` saying what was changed.

    Raises:
        LightCurveError: mismatched lengths, non-numeric values, or too few points.
    """
    where = source or object_id
    arrays = []
    for name, values in (("times", times), ("mags", mags), ("errors", errors)):
        try:
            arrays.append(np.asarray(values, dtype=np.float64).ravel())
        except (TypeError, ValueError) as exc:
            raise LightCurveError(where, "non_numeric", f"{name} are not all numbers ({exc})") from None
    t, m, e = arrays
    if not t.size == m.size == e.size:
        raise LightCurveError(
            where,
            "length_mismatch",
            f"times, mags and errors differ in length ({t.size}, {m.size}, {e.size})",
        )
    counts: dict[str, int] = {}

    finite = np.isfinite(t) & np.isfinite(m) & np.isfinite(e)
    if not finite.all():
        counts["non_finite"] = int((~finite).sum())
        t, m, e = t[finite], m[finite], e[finite]

    positive = e > 0
    if not positive.all():
        counts["non_positive_error"] = int((~positive).sum())
        t, m, e = t[positive], m[positive], e[positive]

    if t.size > 1 and np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        counts["curve_sorted"] = 1  # a whole curve, not rows
        t, m, e = t[order], m[order], e[order]

    if t.size > 1 and np.any(np.diff(t) == 0):
        t, m, e, merged = _merge_duplicate_times(t, m, e)
        counts["duplicate_time_merged"] = merged

    if t.size < min_points:
        detail = f" after removing {counts}" if counts else ""
        raise LightCurveError(
            where, "too_few_points", f"{t.size} valid points{detail}, at least {min_points} required"
        )
    return LightCurve(object_id=str(object_id), times=t, mags=m, errors=e, row_counts=counts, **fields)


def _merge_duplicate_times(t, m, e):
    """Merge points sharing a time into their inverse-variance weighted mean.

    Returns:
        (times, mags, errors, number of rows merged away)
    """
    unique_times, start = np.unique(t, return_index=True)
    weights = 1.0 / e**2
    group = np.repeat(np.arange(unique_times.size), np.diff(np.append(start, t.size)))
    weight_sum = np.bincount(group, weights)
    mags = np.bincount(group, weights * m) / weight_sum
    errors = 1.0 / np.sqrt(weight_sum)
    return unique_times, mags, errors, int(t.size - unique_times.size)


@dataclasses.dataclass
class RejectionReport:
    """What a read or a dataset build left out, and why, and which rows cleaning changed.

    Attributes:
        rejected: (source, reason, message) per rejected file or object.
        row_counts: rows removed or merged across all accepted curves, per kind.
        accepted: number of curves accepted.
    """

    rejected: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    row_counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    accepted: int = 0

    def reject(self, error: LightCurveError) -> None:
        self.rejected.append((error.source, error.reason, str(error)))
        log.debug("rejected %s", error)

    def accept(self, curve: LightCurve) -> None:
        self.accepted += 1
        self.row_counts.update(curve.row_counts)

    def merge(self, other: "RejectionReport") -> None:
        self.rejected.extend(other.rejected)
        self.row_counts.update(other.row_counts)
        self.accepted += other.accepted

    def counts_by_reason(self) -> dict[str, int]:
        return dict(collections.Counter(reason for _, reason, _ in self.rejected))

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": len(self.rejected),
            "rejected_by_reason": self.counts_by_reason(),
            "row_counts": dict(self.row_counts),
            "rejections": [{"source": s, "reason": r, "message": msg} for s, r, msg in self.rejected],
        }

    def summary(self) -> str:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.counts_by_reason().items())) or "none"
        rows = ", ".join(f"{k}={v}" for k, v in sorted(self.row_counts.items())) or "none"
        return f"accepted {self.accepted}, rejected {len(self.rejected)} ({reasons}); rows changed: {rows}"
