"""The package's layering (STYLE.md): each stage imports only the stages before it."""

import shutil
import subprocess
from pathlib import Path

import pytest


def test_import_layers_hold():
    command = shutil.which("lint-imports")
    if command is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run([command], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
