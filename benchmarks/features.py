"""Feature extraction speed with the default extractor and with a cheaper one, on CRTS-like curves.

Usage: python benchmarks/features.py [--curves 2000] [--max-frequency 12.5] [--single-precision] [--folder DIR]

The features (periods, folding, the forest's inputs) are what every period-aware model computes
when it serves raw light curves, and their two Lomb-Scargle periodograms are most of that cost;
each costs in proportion to its frequency ceiling (same step), and less in single precision. Both
runs extract the same curves in this process, on every core (``n_jobs=-1``), each timed on its
second call:

- baseline: ``extract_features`` with the defaults (25 cycles/day, double precision);
- project: ``extract_features`` at ``--max-frequency`` (``features.max_frequency``), in single
  precision with ``--single-precision`` (``features.single_precision``).

Curves are simulated CRTS stars of the seven classes, or ``--folder``'s files (e.g. real CRTS
``.csv``), the first ``--curves`` of them. Also reported: the share of curves whose chosen period is
the same (relative difference under 1e-6) and the largest period either run found for them.
Ends with ``name=value`` lines.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from vsexp.lightcurves.readers import list_light_curve_files, read_file
from vsexp.lightcurves.simulator import CRTS_CLASSES, simulate_star
from vsexp.representations.extractor import MAX_FREQUENCY
from vsexp.representations.features import FEATURE_NAMES, extract_features


def load_curves(count: int, folder: str | None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    if folder:
        stars = [read_file(path, min_points=10) for path in list_light_curve_files(Path(folder))[:count]]
    else:
        labels = list(CRTS_CLASSES)
        stars = [simulate_star("crts", labels[i % len(labels)], i, seed=5) for i in range(count)]
    return [(star.times, star.mags, star.errors) for star in stars]


def timed(curves, **extractor) -> tuple[float, np.ndarray]:
    """(curves per second on the second call, the features by ``extract_features(**extractor)``)."""
    extract_features(curves[:50], **extractor)
    start = time.perf_counter()
    features = extract_features(curves, **extractor)
    return len(curves) / (time.perf_counter() - start), features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=int, default=2000)
    parser.add_argument("--max-frequency", type=float, default=12.5)
    parser.add_argument("--single-precision", action="store_true", help="the project's periodograms in float32")
    parser.add_argument("--folder", help="light-curve files to use instead of simulated CRTS stars")
    args = parser.parse_args()
    curves = load_curves(args.curves, args.folder)
    baseline, default_features = timed(curves)
    project, lowered_features = timed(curves, max_frequency=args.max_frequency, single_precision=args.single_precision)
    period = FEATURE_NAMES.index("log_period")
    same = np.isclose(10 ** lowered_features[:, period], 10 ** default_features[:, period], rtol=1e-6, atol=0)
    shortest = np.nanmin(10 ** np.concatenate([default_features[:, period], lowered_features[:, period]]))

    points = np.mean([len(t) for t, _, _ in curves])
    print(f"{os.cpu_count()} cores; {len(curves)} curves, {points:.0f} points each on average "
          f"({args.folder or 'simulated CRTS'})")
    precision = "single" if args.single_precision else "double"
    print(f"baseline, periodograms to {MAX_FREQUENCY:g} cycles/day, double precision: {baseline:8.0f} curves/s")
    print(f"project,  periodograms to {args.max_frequency:g} cycles/day, {precision} precision: {project:8.0f} curves/s")
    print(f"same period for {same.mean():.1%} of the curves; shortest period found {shortest:.4f} d")
    print(f"speedup_vs_default={project / baseline:.2f}")
    print(f"same_period_share={same.mean():.4f}")
    print(f"curves_per_s={project:.0f}")


if __name__ == "__main__":
    main()
