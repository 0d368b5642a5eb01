"""The package's layering (STYLE.md): each stage imports only the stages before it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_import_layers_hold():
    command = shutil.which("lint-imports", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if command is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run([command], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _import_in_a_fresh_interpreter(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})


def test_steps_that_train_no_network_start_without_tensorflow():
    """promote, convert, report, preprocess, a forest's training or cross-validation: seconds, not
    TensorFlow's start-up (networks import it when they are built or loaded)."""
    result = _import_in_a_fresh_interpreter(
        "import sys\n"
        "import vsexp.cli, vsexp.pipelines.train, vsexp.pipelines.crossval, vsexp.pipelines.main, "
        "vsexp.pipelines.promote, vsexp.pipelines.outputs, vsexp.pipelines.evaluate, vsexp.pipelines.preprocess\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr[-2000:]


def test_the_modules_that_use_tensorflow_import_it_without_its_start_up_banner():
    result = _import_in_a_fresh_interpreter("import vsexp.models.cnn_lstm.network, vsexp.training.fit")
    assert result.returncode == 0 and result.stderr == "", result.stderr[-2000:]
