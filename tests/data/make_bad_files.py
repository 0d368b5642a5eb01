"""Writes tests/data/bad/: a CRTS-layout folder mixing good files with every kind of bad input.

Run from the repository root: ``python tests/data/make_bad_files.py``. The files are committed;
this script documents how they were made. Each good file has 30 points (tests read with
``min_points=10``).

Expected outcome per file (also asserted in tests/lightcurves/test_bad_inputs.py):
    good_a, good_b                 accepted
    nan_values                     accepted, 3 non-finite rows removed
    unsorted                       accepted, curve sorted
    duplicate_times                accepted, 3 rows merged
    nonpositive_errors             accepted, 2 rows removed
    unknown_label                  accepted by the reader; a dataset rejects it (class_not_selected)
    empty                          rejected: empty
    header_only                    rejected: empty
    non_numeric                    rejected: non_numeric
    missing_column                 rejected: missing_column
    binary_junk                    rejected: unreadable
    truncated (.csv.gz)            rejected: unreadable
    too_few_points                 rejected: too_few_points
    unlabelled                     rejected: unlabelled (not in labels.csv)
    ghost (in labels.csv only)     rejected: missing_file
"""

import gzip
from pathlib import Path

import numpy as np

HEADER = '"ID","MJD","mag","magerr","RA","Dec"\n'


def rows(object_id: str, n: int = 30, seed: int = 0) -> list[list]:
    rng = np.random.default_rng(seed)
    times = np.sort(53500 + rng.uniform(0, 2000, n))
    mags = 15 + 0.3 * np.sin(2 * np.pi * times / 0.61) + rng.normal(0, 0.05, n)
    return [[object_id, f"{t:.6f}", f"{m:.4f}", "0.05", "10.0", "-2.0"] for t, m in zip(times, mags)]


def write(path: Path, table: list[list]) -> None:
    path.write_text(HEADER + "".join(",".join(map(str, row)) + "\n" for row in table))


def main() -> None:
    folder = Path(__file__).parent / "bad" / "lightcurves"
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "good_a.csv", rows("good_a", seed=1))
    write(folder / "good_b.csv", rows("good_b", seed=2))
    table = rows("nan_values", seed=3)
    table[3][2], table[7][2], table[9][1] = "nan", "inf", "nan"
    write(folder / "nan_values.csv", table)
    table = rows("unsorted", seed=4)
    table[0], table[10] = table[10], table[0]
    write(folder / "unsorted.csv", table)
    table = rows("duplicate_times", seed=5)
    table[5][1], table[6][1], table[20][1] = table[4][1], table[4][1], table[19][1]
    write(folder / "duplicate_times.csv", table)
    table = rows("nonpositive_errors", seed=6)
    table[2][3], table[8][3] = "0", "-0.1"
    write(folder / "nonpositive_errors.csv", table)
    write(folder / "unknown_label.csv", rows("unknown_label", seed=7))
    (folder / "empty.csv").write_text("")
    (folder / "header_only.csv").write_text(HEADER)
    table = rows("non_numeric", seed=8)
    table[4][2], table[5][2], table[6][2] = "bright", "n/a", "--"
    write(folder / "non_numeric.csv", table)
    (folder / "missing_column.csv").write_text('"ID","MJD","mag"\n' + "".join(f"x,{53500 + i},15.0\n" for i in range(30)))
    (folder / "binary_junk.csv").write_bytes(bytes(np.random.default_rng(9).integers(0, 256, 600, dtype=np.uint8)))
    compressed = gzip.compress((HEADER + "".join(",".join(r) + "\n" for r in rows("truncated", seed=10))).encode())
    (folder / "truncated.csv.gz").write_bytes(compressed[: len(compressed) // 2])
    write(folder / "too_few_points.csv", rows("too_few_points", n=5, seed=11))
    write(folder / "unlabelled.csv", rows("unlabelled", seed=12))
    labels = ["good_a,RRab", "good_b,EW", "nan_values,RRab", "unsorted,EW", "duplicate_times,RRc",
              "nonpositive_errors,EA", "unknown_label,XYZ", "empty,EW", "header_only,EW", "non_numeric,EW",
              "missing_column,EW", "binary_junk,EW", "truncated,EW", "too_few_points,EW", "ghost,EW"]
    (folder.parent / "labels.csv").write_text("id,label\n" + "\n".join(labels) + "\n")


if __name__ == "__main__":
    main()
