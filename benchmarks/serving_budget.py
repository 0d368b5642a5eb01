"""Where a period-aware model's serving time goes, against what 1,000 curves/s on this machine allows.

Usage: python benchmarks/serving_budget.py [--curves 500] [--folder DIR] [--preset crts_best_forest]
       [--max-frequency F] [--second-period full|coarse] [--goal 1000]

The batch goal is ``--goal`` curves/s on this machine's cores, i.e. ``cores * 1000 / goal`` ms
of CPU per curve (2 ms on 2 cores). A model that needs the curve's period (the forest, the
period-aware networks) computes the features inside its pyfunc. This script times each stage of that
on one thread (CPU time per curve, the same curves for every stage):

- project: what ``vsexp predict`` does per file with the feature extractor of ``--preset``'s forest
  (``--max-frequency`` and ``--second-period`` change it) — reading the file (``read_file``), the
  light-curve statistics, the three-peak periodogram, the harmonic fits at its peaks, the search of
  the residuals for a second period (as ``extract_features``); the residuals are searched both ways
  (``full``: their periodogram on the main one's grid; ``coarse``: on a grid four times coarser in
  single precision, refined at its highest peaks), and the extractor's own way counts in the
  project's total;
- baseline (a floor, not an implementation): the least FFT work that any grid-based Lomb-Scargle of
  the same grid does — the sums of the data at f and of the weights at 2f over N frequencies are
  two real FFTs of 2N points (Press & Rybicki 1989) — here two ``scipy.fft.rfft`` of 2N float32
  values per periodogram, nothing else (no spreading, no peaks, no powers).

Ends with ``name=value`` lines: each stage's ms per curve, ``cost_vs_peak_periodogram`` (all
stages over the main periodogram; with the full residual search as well), the budget, and the most curves/s the
project and the bare floor allow on this machine's cores, and a forest fitted on the statistics
alone (``model.feature_groups=statistics``, served reading the file and computing the statistics only) (the forest itself costs ~0.06 ms per curve
and the reading overlaps with the rest in ``vsexp predict``; neither changes the conclusion).
Curves are real files from ``--folder`` (e.g. real CRTS) or simulated CRTS stars written as
CRTS-format files in a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.fft

from vsexp.lightcurves.readers import CRTS_HEADER, list_light_curve_files, read_file
from vsexp.lightcurves.simulator import CRTS_CLASSES, simulate_star
from vsexp.presets import load_preset
from vsexp.representations.extractor import SECOND_PERIOD_SEARCHES, FeatureConfig
from vsexp.representations.features import (FEATURE_NAMES, candidate_periods, frequency_grid, harmonic_features,
                                            periodogram_inputs, periodograms, second_period_coarse)


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


def stage_times(files: list[Path], extractor: FeatureConfig) -> dict[str, float]:
    """ms of CPU per curve of each stage of ``extractor``, one thread; the residuals' search both ways."""
    statistics, peak, residual = periodograms(extractor.max_frequency)
    options = dict(sorted=True, check=False, n_jobs=1, fill_value=np.nan)
    read_ms, stars = cpu_ms_per_curve(lambda: [read_file(path, min_points=10) for path in files], len(files))
    curves = [(s.times, s.mags, s.errors) for s in stars]
    statistics_ms, _ = cpu_ms_per_curve(lambda: statistics.many(curves, **options), len(curves))
    peak_ms, table = cpu_ms_per_curve(lambda: peak.many(periodogram_inputs(curves, extractor.single_precision), **options),
                                      len(curves))
    columns = [list(peak.names).index(f"periodogram_period_{k}") for k in range(3)]

    def harmonics():
        return [harmonic_features(t, m, e, candidate_periods(row[columns], extractor.version, t[-1] - t[0],
                                                             extractor.max_frequency))
                for (t, m, e), row in zip(curves, table)]

    harmonic_ms, fits = cpu_ms_per_curve(harmonics, len(curves))
    residual_curves = [(t, np.ascontiguousarray(r), e) for (t, _, e), (_, r) in zip(curves, fits)]
    full_ms, _ = cpu_ms_per_curve(
        lambda: residual.many(periodogram_inputs(residual_curves, extractor.single_precision), **options), len(curves))
    coarse_ms, _ = cpu_ms_per_curve(lambda: [second_period_coarse(t, r, extractor.max_frequency)
                                             for t, r, _ in residual_curves], len(curves))
    return {"read": read_ms, "statistics": statistics_ms, "peak_periodogram": peak_ms, "harmonic_fits": harmonic_ms,
            "residual_search": {"full": full_ms, "coarse": coarse_ms}[extractor.second_period],
            "residual_search_full": full_ms, "residual_search_coarse": coarse_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=int, default=500)
    parser.add_argument("--folder", help="light-curve files to use instead of simulated CRTS stars")
    parser.add_argument("--preset", default="crts_best_forest", help="whose forest's feature extractor to time")
    parser.add_argument("--max-frequency", type=float, help="the periodograms' ceiling, cycles/day (default: the preset's)")
    parser.add_argument("--second-period", choices=SECOND_PERIOD_SEARCHES, help="the residuals' search (default: the preset's)")
    parser.add_argument("--goal", type=float, default=1000.0, help="curves/s asked of batch prediction")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    budget = cores * 1e3 / args.goal
    extractor = load_preset(args.preset, "baseline").features
    extractor = dataclasses.replace(extractor, **{k: v for k, v in (("max_frequency", args.max_frequency),
                                                                     ("second_period", args.second_period)) if v})
    frequencies = len(frequency_grid(extractor.max_frequency))
    with tempfile.TemporaryDirectory() as scratch:
        if args.folder:
            files = list_light_curve_files(Path(args.folder))[: args.curves]
        else:
            write_simulated(Path(scratch), args.curves)
            files = sorted(Path(scratch).iterdir())
        measured = stage_times(files, extractor)
    stages = {k: v for k, v in measured.items() if k not in ("residual_search_full", "residual_search_coarse")}
    project = sum(stages.values())
    full_search = project - stages["residual_search"] + measured["residual_search_full"]
    floor = 2 * fft_floor_ms(frequencies)  # two periodograms
    statistics_only = stages["read"] + stages["statistics"]

    print(f"{cores} cores; {len(files)} curves ({args.folder or 'simulated CRTS'}); the {args.preset} forest's extractor "
          f"({extractor}); periodograms of {frequencies:,} frequencies to {extractor.max_frequency:g} cycles/day; "
          f"{len(FEATURE_NAMES)} features")
    print(f"budget for {args.goal:g} curves/s on {cores} cores: {budget:.2f} ms of CPU per curve")
    for name, ms in stages.items():
        print(f"  project {name:22s} {ms:7.2f} ms")
    print(f"project, all stages:             {project:7.2f} ms -> at most {cores * 1e3 / project:6.0f} curves/s; "
          f"{project / stages['peak_periodogram']:.2f} x the main periodogram")
    for way in SECOND_PERIOD_SEARCHES:
        print(f"  residual search '{way}':{measured[f'residual_search_{way}']:12.2f} ms")
    print(f"with the full residual search:   {full_search:7.2f} ms; {full_search / stages['peak_periodogram']:.2f} x the main periodogram")
    print(f"floor, the two periodograms' FFTs alone: {floor:5.2f} ms -> at most {cores * 1e3 / floor:6.0f} curves/s")
    print(f"statistics alone (no period):    {statistics_only:7.2f} ms -> at most {cores * 1e3 / statistics_only:6.0f} curves/s")
    for name, ms in measured.items():
        print(f"{name}_ms={ms:.3f}")
    print(f"project_ms_per_curve={project:.3f}")
    print(f"cost_vs_peak_periodogram={project / stages['peak_periodogram']:.3f}")
    print(f"cost_vs_peak_periodogram_full_search={full_search / stages['peak_periodogram']:.3f}")
    print(f"fft_floor_ms_per_curve={floor:.3f}")
    print(f"budget_ms_per_curve={budget:.3f}")
    print(f"project_max_curves_per_s={cores * 1e3 / project:.0f}")
    print(f"floor_max_curves_per_s={cores * 1e3 / floor:.0f}")
    print(f"statistics_only_ms_per_curve={statistics_only:.3f}")
    print(f"statistics_only_max_curves_per_s={cores * 1e3 / statistics_only:.0f}")


if __name__ == "__main__":
    main()
