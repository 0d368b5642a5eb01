"""Compare the simulator with real survey files, class by class (the README's calibration table).

Usage::

    python -m vsexp.lightcurves.calibration --crts ../shared/data/crts --ogle ../shared/data/ogle

Prints a Markdown table: per class, real vs synthetic medians (10th-90th percentiles) of the number
of points, the time span, the median magnitude and error, the amplitude (95th - 5th percentile of
the magnitudes) and the share of intervals shorter than 0.05 d (CRTS's visits of four exposures).
"""

from __future__ import annotations

import argparse
import collections

import numpy as np

from vsexp.lightcurves.classes import CLASS_ALIASES
from vsexp.lightcurves import simulator
from vsexp.lightcurves.readers import iter_folder
from vsexp.lightcurves.record import LightCurve

STATISTICS = {
    "points": len,
    "span_days": lambda c: c.times[-1] - c.times[0],
    "median_mag": lambda c: np.median(c.mags),
    "median_error": lambda c: np.median(c.errors),
    "amplitude_p95_p5": lambda c: np.percentile(c.mags, 95) - np.percentile(c.mags, 5),
    "short_intervals": lambda c: np.mean(np.diff(c.times) < 0.05),
}


def class_statistics(curves) -> dict[str, dict[str, np.ndarray]]:
    """{class: {statistic: values over the class's curves}}."""
    values: dict = collections.defaultdict(lambda: collections.defaultdict(list))
    for curve in curves:
        if isinstance(curve, LightCurve):
            label = CLASS_ALIASES.get(curve.label, curve.label)
            for name, function in STATISTICS.items():
                values[label][name].append(float(function(curve)))
    return {label: {k: np.asarray(v) for k, v in stats.items()} for label, stats in values.items()}


def _cell(values: np.ndarray | None) -> str:
    if values is None or not len(values):
        return "-"
    low, mid, high = np.percentile(values, [10, 50, 90])
    digits = 0 if mid >= 100 else 2 if mid >= 0.1 else 3
    return f"{mid:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def comparison_table(real: dict, synthetic: dict, survey: str) -> str:
    lines = [f"| {survey} class | stars real / synthetic | " + " | ".join(STATISTICS) + " |",
             "|---" * (len(STATISTICS) + 2) + "|"]
    for label in synthetic:
        r, s = real.get(label), synthetic[label]
        n_real = len(r["points"]) if r else 0
        lines.append(f"| {label} | {n_real} / {len(s['points'])} | "
                     + " | ".join(f"{_cell(r[k] if r else None)} / {_cell(s[k])}" for k in STATISTICS) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crts", help="real CRTS folder (labels.csv + lightcurves/)")
    parser.add_argument("--ogle", help="real OGLE folder (I/*.dat + ident.dat)")
    parser.add_argument("--size", default="small", help="synthetic size preset")
    parser.add_argument("--min-points", type=int, default=100)
    args = parser.parse_args()
    for survey, folder in (("crts", args.crts), ("ogle", args.ogle)):
        if not folder:
            continue
        real = class_statistics(iter_folder(folder, min_points=args.min_points, require_labels=True))
        synthetic = class_statistics(c for c in simulator.simulate_survey(survey, args.size, seed=0)
                                     if len(c) >= args.min_points)
        print(f"\nReal / synthetic, median (10th-90th percentile), curves with >= {args.min_points} points\n")
        print(comparison_table(real, synthetic, survey.upper()))


if __name__ == "__main__":
    main()
