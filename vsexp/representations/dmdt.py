"""dm-dt histograms (Mahabal et al. 2017; paper section 2.1), with a fast exact kernel.

For every pair of points i < j of a light curve, ``dt = t_j - t_i`` and ``dm = m_j - m_i`` fall
in a 2D histogram of shape [dm_bins, dt_bins] (rows dm, columns dt, as in the paper's 90 x 53).
The counts equal ``numpy.histogram2d(dm, dt, bins=[dm_edges, dt_edges])`` exactly, including its
edge rules (bins are [lo, hi) except the last, which is [lo, hi]; values outside are dropped).

Why the kernel is fast: times are sorted, so for a fixed i the dt of successive j never decreases
and its bin index only moves forward — the j's are walked once, run by run, with no per-pair
search, and the walk stops at the first dt beyond the last edge. The dm bins of all j come first
from a branch-free lookup over a fine uniform grid (which the compiler vectorises); only the ~1%
of pairs that land near an edge are searched exactly, so arbitrary edges stay exact. Curves are
spread over threads with ``numba.prange``. What remains costly (measured): the walk mispredicts a
branch at the end of every dt run (~17,000 runs per 359-point curve, two thirds of them empty),
and each pair's increment is a dependent load-add-store.

Binnings:
- ``fd`` (the paper): per training curve, the Freedman-Diaconis bin counts of its dm and
  log10(dt) values; the medians over the training split (capped, by default at the paper's
  90 x 53) give the grid, linear in dm over the training range and logarithmic in dt.
- ``mahabal``: the fixed edges of Mahabal et al. (2017).

Images are normalised as Mahabal does: ``floor(255 * counts / n_pairs + 0.99999)``, as uint8, or
(``DmdtConfig.normalisation = column``) by the pairs in each dt column instead.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numba
import numpy as np
from numba import uint64 as U

from vsexp.config import DMDT_NORMALISATIONS, DmdtConfig
from vsexp.errors import ConfigError

log = logging.getLogger(__name__)

MAHABAL_DM_EDGES = np.array([-8, -5, -3, -2.5, -2, -1.5, -1, -0.5, -0.3, -0.2, -0.1, 0,
                             0.1, 0.2, 0.3, 0.5, 1, 1.5, 2, 2.5, 3, 5, 8], dtype=np.float64)
MAHABAL_DT_EDGES = np.array([1 / 145, 2 / 145, 3 / 145, 4 / 145, 1 / 25, 2 / 25, 3 / 25, 1.5, 2.5, 3.5, 4.5,
                             5.5, 7, 10, 20, 30, 60, 90, 120, 240, 600, 960, 2000, 4000], dtype=np.float64)
LOOKUP_CELLS = 16384
UNCERTAIN = 65535  # lookup code of a cell with an edge nearby: search the edges exactly


@dataclasses.dataclass(frozen=True)
class DmdtBins:
    """Bin edges of a dm-dt grid and how they were chosen.

    Attributes:
        dm_edges: [n_dm + 1] increasing magnitude-difference edges.
        dt_edges: [n_dt + 1] increasing time-difference edges (days).
        method: ``fd`` or ``mahabal``.
        details: FD medians before capping, sample size, ranges.
        normalisation: how counts become the uint8 image: ``mahabal`` (per image) or ``column``
            (per dt column); see ``normalise_counts``.
        phase_channel: images carry a second channel, the dm-dphase map (``dmdt_phase_images``).
    """

    dm_edges: np.ndarray
    dt_edges: np.ndarray
    method: str
    details: dict = dataclasses.field(default_factory=dict)
    normalisation: str = "mahabal"
    phase_channel: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return self.dm_edges.size - 1, self.dt_edges.size - 1

    def to_dict(self) -> dict:
        return {"dm_edges": self.dm_edges.tolist(), "dt_edges": self.dt_edges.tolist(), "method": self.method,
                "details": self.details, "normalisation": self.normalisation, "phase_channel": self.phase_channel}

    @classmethod
    def from_dict(cls, data: dict) -> "DmdtBins":
        return cls(np.asarray(data["dm_edges"], float), np.asarray(data["dt_edges"], float), data["method"],
                   data.get("details", {}), data.get("normalisation", "mahabal"), data.get("phase_channel", False))

    def __post_init__(self):
        for name, edges in (("dm_edges", self.dm_edges), ("dt_edges", self.dt_edges)):
            if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
                raise ConfigError(f"dm-dt {name} must be at least two strictly increasing values")
        if self.normalisation not in DMDT_NORMALISATIONS:
            raise ConfigError(f"dm-dt normalisation must be one of {', '.join(DMDT_NORMALISATIONS)}, got '{self.normalisation}'")


def mahabal_bins(normalisation: str = "mahabal") -> DmdtBins:
    return DmdtBins(MAHABAL_DM_EDGES.copy(), MAHABAL_DT_EDGES.copy(), "mahabal", normalisation=normalisation)


def pair_differences(times: np.ndarray, mags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All i < j pairs: (dt [n(n-1)/2], dm [n(n-1)/2])."""
    i, j = np.triu_indices(times.size, k=1)
    return times[j] - times[i], mags[j] - mags[i]


def _fd_count(values: np.ndarray) -> int:
    """Freedman-Diaconis bin count of ``values`` (numpy's estimator), at least 1."""
    return max(1, np.histogram_bin_edges(values, bins="fd").size - 1)


def fd_bins(curves, config: DmdtConfig, seed: int = 0) -> DmdtBins:
    """Choose the paper's FD grid from training curves ``[(times, mags, ...), ...]``.

    The bin counts are medians of per-curve FD counts (dm, and log10 dt) over a seeded sample of
    ``config.fd_sample`` curves, capped by ``config.max_dm_bins`` / ``max_dt_bins``. The dm range
    is symmetric and covers the 99.5% |dm| of 95% of the curves (large-amplitude classes keep
    their pairs); the dt range runs from the median over curves of their ``config.dt_low_quantile``
    positive dt (by default the closest pair) to the largest dt.
    """
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(curves))[: config.fd_sample]
    dm_counts, dt_counts, dm_high, dt_low, dt_high = [], [], [], [], []
    for index in chosen:
        times, mags = curves[index][:2]
        dt, dm = pair_differences(np.asarray(times, float), np.asarray(mags, float))
        positive = dt[dt > 0]
        if positive.size < 4:
            continue
        dm_counts.append(_fd_count(dm))
        dt_counts.append(_fd_count(np.log10(positive)))
        dm_high.append(np.quantile(np.abs(dm), 0.995))
        dt_low.append(np.quantile(positive, config.dt_low_quantile))
        dt_high.append(dt.max())
    if not dm_counts:
        raise ConfigError("cannot choose FD dm-dt bins: no training curve has enough points")
    fd_dm, fd_dt = int(np.median(dm_counts)), int(np.median(dt_counts))
    n_dm, n_dt = min(fd_dm, config.max_dm_bins), min(fd_dt, config.max_dt_bins)
    dm_range = float(np.quantile(dm_high, 0.95))
    dt_min, dt_max = float(np.median(dt_low)), float(max(dt_high))
    dm_edges = np.linspace(-dm_range, dm_range, n_dm + 1)
    dt_edges = np.logspace(math.log10(dt_min), math.log10(dt_max), n_dt + 1)
    dt_edges[0], dt_edges[-1] = dt_min, dt_max  # exact ends: no pair is lost to rounding
    details = {"fd_median_dm_bins": fd_dm, "fd_median_dt_bins": fd_dt,
               "caps": [config.max_dm_bins, config.max_dt_bins],
               "curves_sampled": len(dm_counts), "dm_range": dm_range, "dt_range": [dt_min, dt_max]}
    log.info("FD dm-dt bins: %d dm x %d dt (uncapped medians %d x %d)", n_dm, n_dt, fd_dm, fd_dt)
    return DmdtBins(dm_edges, dt_edges, "fd", details, config.normalisation)


def choose_bins(curves, config: DmdtConfig, seed: int = 0) -> DmdtBins:
    bins = fd_bins(curves, config, seed) if config.binning == "fd" else mahabal_bins(config.normalisation)
    return dataclasses.replace(bins, phase_channel=config.phase_channel)


def _lookup_table(edges: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Bin codes over LOOKUP_CELLS uniform cells spanning ``edges``, plus two guard cells a side.

    ``code[c]`` is the bin of every dm whose cell is c, when that is certain: no edge lies in
    cells c-1..c+1, so rounding of the cell index cannot matter. Uncertain cells hold UNCERTAIN
    (the kernel then searches the edges exactly). Cell 0 (far below the range) and the last cell
    (far above) hold ``n_dm``, the sink column for out-of-range pairs.

    Returns:
        (codes [LOOKUP_CELLS + 4] uint16, low edge, cells per magnitude)
    """
    low, high = edges[0], edges[-1]
    n_bins = edges.size - 1
    if n_bins >= UNCERTAIN:
        raise ConfigError(f"dm-dt grids are limited to {UNCERTAIN - 1} dm bins, got {n_bins}")
    scale = LOOKUP_CELLS / (high - low)
    cell = np.arange(-1, LOOKUP_CELLS + 1)
    left = low + (cell - 1) / scale  # left end of cell-1
    right = low + (cell + 2) / scale  # right end of cell+1
    bin_left = np.searchsorted(edges, left, side="right") - 1
    bin_right = np.searchsorted(edges, right, side="left") - 1
    certain = (bin_left == bin_right) & (bin_left >= 0) & (bin_left < n_bins)
    inner = np.where(certain, bin_left, UNCERTAIN)
    codes = np.concatenate([[n_bins], inner, [n_bins]]).astype(np.uint16)
    return codes, float(low), float(scale)


@numba.njit(cache=True, nogil=True)
def _exact_dm_bin(dm, dm_edges):
    """numpy's bin of ``dm`` (last bin closed), or n_dm when outside the edges."""
    n_dm = dm_edges.size - 1
    if dm < dm_edges[0] or dm > dm_edges[n_dm]:
        return n_dm
    if dm == dm_edges[n_dm]:
        return n_dm - 1
    return np.searchsorted(dm_edges, dm, side="right") - 1


@numba.njit(cache=True, nogil=True)
def _count_one(times, mags, dt_edges, dm_edges, codes, low, scale, hist, code_buffer):
    """Add one curve's pair counts to ``hist`` [n_dt, n_dm + 1] (rows dt; last column a sink).

    For each i: pass 1 computes every j's dm bin code from the lookup table (a branch-free loop);
    pass 2 walks the j's dt bin by dt bin — the run of bin p ends at the first dt >= its upper edge
    — and increments, searching the edges only for uncertain codes. Indices are cast to unsigned
    (``U``): numba then drops its negative-index wraparound, which made the loops ~1.3x slower.
    """
    n = times.size
    n_dt = dt_edges.size - 1
    dt_first, dt_last = dt_edges[0], dt_edges[-1]
    top = float(codes.size - 1)
    for i in range(n - 1):
        ti = times[U(i)]
        mi = mags[U(i)]
        for k in range(i + 1, n):
            x = (mags[U(k)] - mi - low) * scale + 2.0
            x = min(max(x, 0.0), top)
            code_buffer[U(k)] = codes[U(x)]
        j = i + 1
        while j < n and times[U(j)] - ti < dt_first:
            j += 1
        p = 0
        while j < n and p < n_dt:
            end = j
            if p < n_dt - 1:
                upper = dt_edges[U(p + 1)]
                while end < n and times[U(end)] - ti < upper:
                    end += 1
            else:  # the last bin is closed on the right, as in numpy
                while end < n and times[U(end)] - ti <= dt_last:
                    end += 1
            row = hist[U(p)]
            for k in range(j, end):
                code = code_buffer[U(k)]
                if code == UNCERTAIN:
                    code = _exact_dm_bin(mags[U(k)] - mi, dm_edges)
                row[U(code)] += 1
            j = end
            p += 1


@numba.njit(cache=True, parallel=True)
def _count_many(times, mags, offsets, dt_edges, dm_edges, codes, low, scale, out):
    for k in numba.prange(offsets.size - 1):
        start, stop = offsets[k], offsets[k + 1]
        code_buffer = np.empty(stop - start, dtype=np.uint16)
        _count_one(times[start:stop], mags[start:stop], dt_edges, dm_edges, codes, low, scale, out[k], code_buffer)


def _ragged(curves) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(c[0]) for c in curves), dtype=np.int64, count=len(curves))
    offsets = np.zeros(len(curves) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    times = np.concatenate([np.asarray(c[0], np.float64) for c in curves]) if len(curves) else np.zeros(0)
    mags = np.concatenate([np.asarray(c[1], np.float64) for c in curves]) if len(curves) else np.zeros(0)
    return times, mags, offsets


def dmdt_counts(curves, bins: DmdtBins, threads: int | None = None) -> np.ndarray:
    """Raw pair counts for ``curves`` = [(times sorted, mags, ...), ...].

    Args:
        curves: sequence of (times [n_i], mags [n_i], ...) with times sorted ascending.
        bins: the grid.
        threads: numba threads (None = all cores).

    Returns:
        [n_curves, n_dm, n_dt] int64 counts, equal to ``numpy.histogram2d``'s (accumulated as int32:
        a curve has at most ~65,000 points).
    """
    times, mags, offsets = _ragged(curves)
    n_dm, n_dt = bins.shape
    transposed = np.zeros((len(curves), n_dt, n_dm + 1), dtype=np.int32)
    table, low, scale = _lookup_table(bins.dm_edges)
    previous = numba.get_num_threads()
    if threads:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        _count_many(times, mags, offsets, bins.dt_edges, bins.dm_edges, table, low, scale, transposed)
    finally:
        numba.set_num_threads(previous)
    return transposed[:, :, :n_dm].transpose(0, 2, 1).astype(np.int64)


def normalise_counts(counts: np.ndarray, n_points: np.ndarray, normalisation: str = "mahabal") -> np.ndarray:
    """Counts [n, n_dm, n_dt] -> uint8 images: ``floor(255 * counts / total + 0.99999)``, capped at 255.

    ``mahabal`` (Mahabal et al.): total = the curve's pairs, n(n-1)/2. ``column``: total = the
    pairs in the same dt column, so the few pairs at short dt (the only ones that see the period of a
    short-period star at one visit per night) show their dm spread instead of rounding up to 1.
    """
    if normalisation == "column":
        total = np.maximum(counts.sum(axis=1, keepdims=True), 1).astype(np.float64)
    else:
        total = np.maximum(n_points.astype(np.float64) * (n_points - 1) / 2, 1)[:, None, None]
    return np.minimum(np.floor(255.0 * counts / total + 0.99999), 255).astype(np.uint8)


def dmdt_images(curves, bins: DmdtBins, chunk_size: int = 4096, progress=None) -> np.ndarray:
    """uint8 images [n_curves, n_dm, n_dt] normalised as ``bins`` says, computed in chunks to bound memory."""
    images = np.empty((len(curves), *bins.shape), dtype=np.uint8)
    for start in range(0, len(curves), chunk_size):
        chunk = curves[start:start + chunk_size]
        lengths = np.array([len(c[0]) for c in chunk])
        images[start:start + len(chunk)] = normalise_counts(dmdt_counts(chunk, bins), lengths, bins.normalisation)
        if progress is not None:
            progress.update(len(chunk))
    return images


def dmdt_phase_images(curves, folds, bins: DmdtBins) -> np.ndarray:
    """uint8 dm-dphase images [n_curves, n_dm, n_dt]: every pair's dm against its phase difference.

    Each curve's points, sorted by phase, play the part of sorted times, so the same exact kernel
    bins the pairs over ``n_dt`` uniform phase bins on [0, 1) (same dm edges and normalisation).
    A curve without a period (its fold None) gets an empty image.

    Args:
        folds: per curve, its ``folded.Fold`` (period, phases) or None.
    """
    phase_bins = DmdtBins(bins.dm_edges, np.linspace(0.0, 1.0, bins.shape[1] + 1), "phase",
                          normalisation=bins.normalisation)
    empty = (np.zeros(1), np.zeros(1))
    folded = []
    for curve, fold in zip(curves, folds):
        if fold is None:
            folded.append(empty)
            continue
        order = np.argsort(fold.phases, kind="stable")
        folded.append((fold.phases[order], np.asarray(curve[1])[order]))
    return dmdt_images(folded, phase_bins)


def numpy_dmdt_counts(times: np.ndarray, mags: np.ndarray, bins: DmdtBins) -> np.ndarray:
    """The reference: ``numpy.histogram2d`` over all pairs (the paper's way), [n_dm, n_dt]."""
    dt, dm = pair_differences(times, mags)
    counts, _, _ = np.histogram2d(dm, dt, bins=[bins.dm_edges, bins.dt_edges])
    return counts.astype(np.int64)
