"""How long a bad parameter takes to be refused, against the cost of importing TensorFlow first.

Each case runs ``python -m vsexp.cli ...`` with one bad parameter, as a user would type it, ``--repeats``
times; the baseline is the same interpreter importing TensorFlow and MLflow (what a refusal cost when
the command imported its step before checking its parameters). Ends with ``name=value`` lines.

    python benchmarks/refusal.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

CASES = [
    ["train_lstm", "--set", "model.filterz=8"],
    ["train_cnn", "--preset", "nope"],
    ["main", "--settings", "model.bogus=1"],
    ["preprocess", "--source", "crts:/no/such/dir"],
    ["evaluate", "--model", "models:/x@champion", "--split", "holdout"],
    ["tune", "--pruner", "sometimes"],
    ["predict", "--model", "models:/x@champion", "--input", "/no/such/folder", "--output", "p.csv"],
]


def seconds(command: list[str], folder: str, expected_code: int) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != expected_code:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}: {result.stderr[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        baseline = statistics.median(
            seconds([sys.executable, "-c", "import tensorflow, mlflow"], folder, 0) for _ in range(args.repeats))
        times = {}
        for case in CASES:
            times[" ".join(case[:3])] = statistics.median(
                seconds([sys.executable, "-m", "vsexp.cli", *case], folder, 2) for _ in range(args.repeats))
    for name, value in times.items():
        print(f"{name:<45} {value:6.2f} s")
    print(f"{'baseline: import tensorflow, mlflow':<45} {baseline:6.2f} s")
    print(f"slowest_refusal_s={max(times.values()):.3f}")
    print(f"median_refusal_s={statistics.median(times.values()):.3f}")
    print(f"tensorflow_import_s={baseline:.3f}")


if __name__ == "__main__":
    main()
