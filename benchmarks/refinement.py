"""Speed of the harmonic refinement: the best 2-harmonic fit near each periodogram peak.

Usage: python benchmarks/refinement.py [--curves 1000] [--folder DIR]

Every period-aware model computes it for each curve it serves: 41 candidate frequencies within one
grid step of each of the periodogram's three peaks, the fraction of variance a 2-harmonic weighted
fit explains at each, and the best. Both runs refine the same peaks of the same curves, on one thread:

- baseline: one weighted least-squares fit per candidate frequency (``harmonic_fit``, numpy's lstsq);
- project: ``refine_frequency``, whose ``explained_variances`` solves all candidates' normal
  equations at once from sums of complex exponentials.

Curves are simulated CRTS stars of the seven classes, or ``--folder``'s files (e.g. real CRTS
``.csv``). Also reported: the share of peaks for which both choose the same frequency and the
largest difference between their explained variances. Ends with ``name=value`` lines.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from features import load_curves  # this folder's feature benchmark: the same simulated or real curves
from vsexp.representations.features import (REFINEMENT_CANDIDATES, harmonic_fit, normalised_weights, periodograms,
                                            refine_frequency, refinement_candidates)


def refine_by_lstsq(times, mags, weights, frequency, span) -> tuple[float, float]:
    """``refine_frequency``'s answer by one least-squares fit per candidate frequency."""
    candidates = refinement_candidates(frequency, span)
    explained = [harmonic_fit(times, mags, weights, candidate, 2)[1] for candidate in candidates]
    best = int(np.argmax(explained))
    return float(candidates[best]), float(explained[best])


def timed(refine, jobs) -> tuple[float, np.ndarray]:
    """(seconds per curve, [n_jobs, 2] chosen frequency and explained variance)."""
    start = time.perf_counter()
    results = np.array([refine(*job) for job in jobs])
    return (time.perf_counter() - start) / (len(jobs) / 3), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=int, default=1000)
    parser.add_argument("--folder", help="light-curve files to use instead of simulated CRTS stars")
    args = parser.parse_args()
    curves = load_curves(args.curves, args.folder)
    periodogram = periodograms()[1]
    table = periodogram.many(curves, sorted=True, check=False, n_jobs=-1, fill_value=np.nan)
    peaks = table[:, [periodogram.names.index(f"periodogram_period_{k}") for k in range(3)]]
    jobs = [(times, mags, normalised_weights(errors), 1.0 / period, times[-1] - times[0])
            for (times, mags, errors), periods in zip(curves, peaks) for period in periods]
    timed(refine_frequency, jobs[:30])  # warm-up
    baseline, by_lstsq = timed(refine_by_lstsq, jobs)
    project, batched = timed(refine_frequency, jobs)
    same = np.isclose(batched[:, 0], by_lstsq[:, 0], rtol=1e-12, atol=0)

    print(f"{len(curves)} curves ({args.folder or 'simulated CRTS'}), 3 peaks x {REFINEMENT_CANDIDATES} "
          f"candidate frequencies each")
    print(f"baseline, one lstsq fit per candidate:      {baseline * 1e3:6.2f} ms per curve")
    print(f"project,  explained_variances per peak:     {project * 1e3:6.2f} ms per curve")
    print(f"same frequency chosen for {same.mean():.2%} of the peaks; largest difference in explained "
          f"variance {np.max(np.abs(batched[:, 1] - by_lstsq[:, 1])):.1e}")
    print(f"lstsq_ms_per_curve={baseline * 1e3:.3f}")
    print(f"batched_ms_per_curve={project * 1e3:.3f}")
    print(f"speedup_vs_lstsq={baseline / project:.2f}")
    print(f"same_choice_share={same.mean():.4f}")


if __name__ == "__main__":
    main()
