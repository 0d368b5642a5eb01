"""Training speed of both networks and the input pipeline's share of step time.

Usage: python benchmarks/training.py [--preset ogle_small] [--steps 60]

For each network, on the preset's cached representations (the ``small`` synthetic survey by
default, built if needed):

- project: ``fit`` on vsexp's tf.data pipeline (shuffle, batch, prefetch) for ``--steps`` steps;
- baseline: the same model and steps fed one batch repeated (no input work at all);
- pipeline alone: the same tf.data pipeline iterated for ``--steps`` batches with no model;
alternating ``--repeats`` times and keeping each one's best time.

The pipeline's share of step time is ``pipeline_alone_time / project_time``: what producing the
batches costs per training step, an upper bound on what it can add (prefetch overlaps it with the
step). The difference ``1 - baseline_time / project_time`` is printed too, but it is two noisy
timings subtracted (0.004 to 0.103 for the CNN-LSTM from run to run on an idle machine).
Ends with ``name=value`` lines.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vsexp.dataset.build import build_dataset  # noqa: E402
from vsexp.models.registry import family, input_shapes  # noqa: E402
from vsexp.presets import load_preset  # noqa: E402
from vsexp.representations.cache import build_representations  # noqa: E402
from vsexp.representations.protocol import Settings  # noqa: E402
from vsexp.representations.tfdata import make_dataset  # noqa: E402


def timed_fit(model: keras.Model, data: tf.data.Dataset, steps: int) -> float:
    """Seconds for ``steps`` training steps (after a warm-up of the same length, which traces)."""
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    start = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - start


def timed_iteration(data: tf.data.Dataset, steps: int) -> float:
    """Seconds to produce ``steps`` batches with no model (after a warm-up of the same length)."""
    for _ in data.take(steps):
        pass
    start = time.perf_counter()
    for _ in data.take(steps):
        pass
    return time.perf_counter() - start


def measure(name: str, preset: str, steps: int, repeats: int) -> tuple[float, float]:
    config = load_preset(preset, name)
    dataset = build_dataset(config.data)
    model_family = family(name)
    representations = build_representations(dataset, model_family.inputs(config.model), Settings.of(config))
    inputs, labels = representations.inputs("train"), dataset.labels("train")
    classes = len(dataset.classes)
    batch = config.fit.batch_size
    pipeline = make_dataset(inputs, labels, num_classes=classes, batch_size=batch, shuffle=True).repeat()
    first_rows = {k: v[:batch] for k, v in inputs.items()}
    one_batch = next(iter(make_dataset(first_rows, labels[:batch], num_classes=classes, batch_size=batch)))
    repeated = tf.data.Dataset.from_tensors(one_batch).repeat()
    keras.utils.set_random_seed(0)
    model = model_family.build(config.model, input_shapes(inputs), classes, 0)
    model.compile(optimizer=keras.optimizers.Adam(config.fit.learning_rate), loss="categorical_crossentropy")
    times = {"baseline": float("inf"), "project": float("inf"), "pipeline": float("inf")}
    for _ in range(repeats):  # alternate, keep each one's best: other load on the machine hits both
        for label, data in (("baseline", repeated), ("project", pipeline)):
            times[label] = min(times[label], timed_fit(model, data, steps))
        times["pipeline"] = min(times["pipeline"], timed_iteration(pipeline, steps))
    samples_per_second = steps * batch / times["project"]
    share = times["pipeline"] / times["project"]
    difference = max(0.0, 1.0 - times["baseline"] / times["project"])
    print(f"{name:5s} {config.data.source} {input_shapes(inputs)}: baseline {times['baseline']:.2f} s, "
          f"project {times['project']:.2f} s, pipeline alone {times['pipeline']:.3f} s for {steps} steps of {batch} "
          f"-> {samples_per_second:.0f} samples/s, pipeline share {share:.3f} (by difference {difference:.3f})")
    return samples_per_second, share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="ogle_small")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, devices "
          f"{[d.device_type for d in tf.config.list_physical_devices()]}, {os.cpu_count()} cores")
    results = {name: measure(name, args.preset, args.steps, args.repeats) for name in ("lstm", "cnn")}
    for name, (rate, _) in results.items():
        print(f"{name}_samples_per_s={rate:.0f}")
    print(f"pipeline_share={max(share for _, share in results.values()):.3f}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
