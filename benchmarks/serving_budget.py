"""Where a period-aware model's serving time goes, against what 1,000 curves/s on this machine allows.

Usage: python benchmarks/serving_budget.py [--curves 500] [--folder DIR] [--max-frequency 25] [--goal 1000]

The batch goal is ``--goal`` curves/s on this machine's cores, i.e. ``cores * 1000 / goal`` ms
of CPU per curve (2 ms on 2 cores). A model that needs the curve's period (the forest, the
period-aware networks) computes the features inside its pyfunc. This script times each stage of that
on one thread (CPU time per curve, the same curves for every stage):

- project: what ``vsexp predict`` does per file with the default extractor — reading the file
  (``read_file``), the light-curve statistics, the three-peak periodogram, the harmonic fits at its
  peaks, the residuals' periodogram (as ``extract_features``);
- baseline (a floor, not an implementation): the least FFT work that any grid-based Lomb-Scargle of
  the same grid does — the sums of the data at f and of the weights at 2f over N frequencies are
  two real FFTs of 2N points (Press & Rybicki 1989) — here two ``scipy.fft.rfft`` of 2N float32
  values per periodogram, nothing else (no spreading, no peaks, no powers).

Ends with ``name=value`` lines: each stage's ms per curve, the budget, and the most curves/s the
project and the bare floor allow on this machine's cores, and a forest fitted on the statistics
alone (``model.feature_groups=statistics``, served reading the file and computing the statistics only) (the forest itself costs ~0.06 ms per curve
and the reading overlaps with the rest in ``vsexp predict``; neither changes the conclusion).
Curves are real files from ``--folder`` (e.g. real CRTS) or simulated CRTS stars written as
CRTS-format files in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.fft

from vsexp.lightcurves.readers import CRTS_HEADER, list_light_curve_files, read_file
from vsexp.lightcurves.simulator import CRTS_CLASSES, simulate_star
from vsexp.representations.extractor import FEATURES_VERSION, MAX_FREQUENCY
from vsexp.representations.features import (FEATURE_NAMES, candidate_periods, frequency_grid, harmonic_features,
                                            periodograms)


def write_simulated(folder: Path, count: int) -> None:
    labels = list(CRTS_CLASSES)
    for index in range(count):
        star = simulate_star("crts", labels[index % len(labels)], index, seed=5)
        rows = "\n".join(f"{index},{t:.7f},{m:.5f},{e:.5f},10.0,-2.0" for t, m, e in zip(star.times, star.mags, star.errors))
        (folder / f"SIM{index:06d}.csv").write_text(f"{CRTS_HEADER}\n{rows}\n")


def cpu_ms_per_curve(work, count: int) -> tuple[float, object]:
    """(CPU ms per curve of ``work()``, its result), on the second call."""
    work()
    start = time.process_time()
    result = work()
    return (time.process_time() - start) * 1e3 / count, result


def fft_floor_ms(frequencies: int, repeats: int = 50) -> float:
    """ms for the two real FFTs of 2 * ``frequencies`` float32 points one periodogram of that grid needs."""
    values = np.random.default_rng(0).random(2 * (frequencies - 1)).astype(np.float32)
    scipy.fft.rfft(values)
    start = time.process_time()
    for _ in range(repeats):
        scipy.fft.rfft(values)
        scipy.fft.rfft(values)
    return (time.process_time() - start) * 1e3 / repeats


def stage_times(files: list[Path], max_frequency: float) -> dict[str, float]:
    """ms of CPU per curve of each stage of the default extractor, one thread."""
    statistics, peak, residual = periodograms(max_frequency)
    options = dict(sorted=True, check=False, n_jobs=1, fill_value=np.nan)
    read_ms, stars = cpu_ms_per_curve(lambda: [read_file(path, min_points=10) for path in files], len(files))
    curves = [(s.times, s.mags, s.errors) for s in stars]
    statistics_ms, _ = cpu_ms_per_curve(lambda: statistics.many(curves, **options), len(curves))
    peak_ms, table = cpu_ms_per_curve(lambda: peak.many(curves, **options), len(curves))
    columns = [list(peak.names).index(f"periodogram_period_{k}") for k in range(3)]

    def harmonics():
        return [harmonic_features(t, m, e, candidate_periods(row[columns], FEATURES_VERSION, t[-1] - t[0], max_frequency))[1]
                for (t, m, e), row in zip(curves, table)]

    harmonic_ms, residuals = cpu_ms_per_curve(harmonics, len(curves))
    residual_curves = [(t, np.ascontiguousarray(r), e) for (t, _, e), r in zip(curves, residuals)]
    residual_ms, _ = cpu_ms_per_curve(lambda: residual.many(residual_curves, **options), len(curves))
    return {"read": read_ms, "statistics": statistics_ms, "peak_periodogram": peak_ms, "harmonic_fits": harmonic_ms,
            "residual_periodogram": residual_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=int, default=500)
    parser.add_argument("--folder", help="light-curve files to use instead of simulated CRTS stars")
    parser.add_argument("--max-frequency", type=float, default=MAX_FREQUENCY, help="the periodograms' ceiling, cycles/day")
    parser.add_argument("--goal", type=float, default=1000.0, help="curves/s asked of batch prediction")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    budget = cores * 1e3 / args.goal
    frequencies = len(frequency_grid(args.max_frequency))
    with tempfile.TemporaryDirectory() as scratch:
        if args.folder:
            files = list_light_curve_files(Path(args.folder))[: args.curves]
        else:
            write_simulated(Path(scratch), args.curves)
            files = sorted(Path(scratch).iterdir())
        stages = stage_times(files, args.max_frequency)
    project = sum(stages.values())
    floor = 2 * fft_floor_ms(frequencies)  # two periodograms
    statistics_only = stages["read"] + stages["statistics"]

    print(f"{cores} cores; {len(files)} curves ({args.folder or 'simulated CRTS'}); periodograms of {frequencies:,} "
          f"frequencies to {args.max_frequency:g} cycles/day; {len(FEATURE_NAMES)} features")
    print(f"budget for {args.goal:g} curves/s on {cores} cores: {budget:.2f} ms of CPU per curve")
    for name, ms in stages.items():
        print(f"  project {name:22s} {ms:7.2f} ms")
    print(f"project, all stages:             {project:7.2f} ms -> at most {cores * 1e3 / project:6.0f} curves/s")
    print(f"floor, the two periodograms' FFTs alone: {floor:5.2f} ms -> at most {cores * 1e3 / floor:6.0f} curves/s")
    print(f"statistics alone (no period):    {statistics_only:7.2f} ms -> at most {cores * 1e3 / statistics_only:6.0f} curves/s")
    for name, ms in stages.items():
        print(f"{name}_ms={ms:.3f}")
    print(f"project_ms_per_curve={project:.3f}")
    print(f"fft_floor_ms_per_curve={floor:.3f}")
    print(f"budget_ms_per_curve={budget:.3f}")
    print(f"project_max_curves_per_s={cores * 1e3 / project:.0f}")
    print(f"floor_max_curves_per_s={cores * 1e3 / floor:.0f}")
    print(f"statistics_only_ms_per_curve={statistics_only:.3f}")
    print(f"statistics_only_max_curves_per_s={cores * 1e3 / statistics_only:.0f}")


if __name__ == "__main__":
    main()
