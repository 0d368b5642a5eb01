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
