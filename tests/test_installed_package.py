"""The package works when installed from its wheel, away from the source checkout: presets, search
spaces and tiny specs travel as package data, and a model logged there records its requirements from
the installed distributions and loads again."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PREDICT = """
import json, sys
import mlflow, numpy as np, pandas as pd
from vsexp.lightcurves.simulator import simulate_star
model = mlflow.pyfunc.load_model(sys.argv[1])
stars = [simulate_star("ogle", "RRL", 7000 + i, seed=5) for i in range(2)]
frame = pd.DataFrame({k: [getattr(s, k).tolist() for s in stars] for k in ("times", "mags", "errors")})
requirements = open(mlflow.pyfunc.get_model_dependencies(sys.argv[1])).read().split()
print(json.dumps({"labels": model.predict(frame)["label"].tolist(), "requirements": requirements}))
"""


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_trains_logs_and_reloads_a_model(tmp_path):
    source = tmp_path / "source"  # built from a copy: setuptools writes build/ beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "mlruns", "cache",
                                                                "mlflow.db", "__pycache__", "tests"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(wheels.glob("vsexp-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # the dependencies come from this environment's site-packages (a path, so its .pth files, and
    # with them the editable install of the checkout, stay inactive); vsexp from the wheel alone
    venv_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                    check=True, capture_output=True, text=True).stdout.strip())
    (venv_site / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], check=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_RUN_ID")}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{work / 'mlflow.db'}", VSEXP_CACHE_DIR=str(work / "cache"),
               PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")

    def run(*command) -> str:
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stderr[-3000:]}"
        return result.stdout.strip().splitlines()[-1]

    located = run(str(python), "-c", "import vsexp; print(vsexp.__file__)")
    assert str(venv) in located and str(ROOT) not in located
    summary = json.loads(run(str(venv / "bin" / "vsexp"), "train_baseline", "--preset", "tiny"))
    assert summary["registered_model"] == "vsexp-synthetic-ogle-baseline"
    assert run(str(venv / "bin" / "vsexp"), "tune", "--model", "lstm", "--preset", "tiny", "--n-trials", "1",
               "--epochs", "1", "--no-retrain")  # the search space is package data
    served = json.loads(run(str(python), "-c", PREDICT, summary["model_uri"]))
    assert len(served["labels"]) == 2
    import sklearn

    assert f"scikit-learn=={sklearn.__version__}" in served["requirements"]
