"""GPU checks, run on GPU runners only (`python -m pytest -m gpu`); never part of the default run."""

import pytest

pytestmark = pytest.mark.gpu


def test_gpu_visible_and_mixed_precision_switches_on():
    import keras

    from vsexp.config import FitConfig
    from vsexp.training.fit import configure_precision, gpu_available

    if not gpu_available():
        pytest.skip("no GPU visible to TensorFlow")
    try:
        assert configure_precision(FitConfig(mixed_precision="auto")) == "mixed_float16"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_tiny_training_runs_on_gpu(capsys):
    from vsexp.cli import main
    from vsexp.training.fit import gpu_available

    if not gpu_available():
        pytest.skip("no GPU visible to TensorFlow")
    assert main(["train_lstm", "--preset", "tiny", "--no-register"]) == 0
    assert '"precision_policy": "mixed_float16"' in capsys.readouterr().out
