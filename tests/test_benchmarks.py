"""The benchmarks still run and end with ``name=value`` lines (tiny sizes, ~30 s in all; speed is not checked here)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # runs every benchmark (pytest -m "not slow" leaves it out)


def _run_benchmark(script: str, *arguments: str, tmp_path) -> dict[str, float]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "VSEXP_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *arguments], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    tail = {}
    for line in reversed(lines):
        name, separator, value = line.partition("=")
        if not separator or " " in name:
            break
        tail[name] = float(value)
    assert tail, f"no name=value lines at the end of:\n{result.stdout[-2000:]}"
    return {"stdout": result.stdout, **tail}


def test_dmdt_benchmark_checks_counts_and_reports_both_ratios(tmp_path):
    result = _run_benchmark("dmdt.py", "--curves", "40", "--points", "60", tmp_path=tmp_path)
    assert "identical counts: numpy=True light-curve=True parallel=True" in result["stdout"]
    assert result["speedup_vs_numpy"] > 0 and result["speedup_vs_light_curve"] > 0


def test_predict_benchmark_ends_with_curves_per_second(tmp_path):
    assert _run_benchmark("predict.py", "--curves", "60", tmp_path=tmp_path)["curves_per_s"] > 0


def test_training_benchmark_ends_with_samples_per_second(tmp_path):
    result = _run_benchmark("training.py", "--preset", "tiny", "--steps", "3", "--repeats", "1", tmp_path=tmp_path)
    assert result["lstm_samples_per_s"] > 0 and result["pipeline_share"] >= 0  # a ratio of two times: can pass 1 when loaded


@pytest.mark.parametrize("cheaper", [[], ["--single-precision"]])
def test_features_benchmark_reports_the_speedup_of_a_cheaper_extractor_and_the_periods_it_keeps(tmp_path, cheaper):
    result = _run_benchmark("features.py", "--curves", "60", *cheaper, tmp_path=tmp_path)
    assert result["speedup_vs_default"] > 0 and 0 <= result["same_period_share"] <= 1
    assert ("single precision:" in result["stdout"]) == bool(cheaper)


def test_refinement_benchmark_compares_the_batch_with_one_fit_per_frequency(tmp_path):
    result = _run_benchmark("refinement.py", "--curves", "20", tmp_path=tmp_path)
    assert result["speedup_vs_lstsq"] > 0 and result["same_choice_share"] > 0.9  # the same refinement, two ways


def test_serving_budget_benchmark_sets_every_stage_against_the_fft_floor_and_the_goal(tmp_path):
    result = _run_benchmark("serving_budget.py", "--curves", "20", "--max-frequency", "12.5", "--goal", "500",
                            tmp_path=tmp_path)
    stages = ["read", "statistics", "peak_periodogram", "harmonic_fits", "residual_search"]
    assert all(result[f"{stage}_ms"] > 0 for stage in [*stages, "residual_search_full", "residual_search_coarse"])
    assert abs(sum(result[f"{stage}_ms"] for stage in stages) - result["project_ms_per_curve"]) < 0.01
    assert result["cost_vs_peak_periodogram"] == pytest.approx(
        result["project_ms_per_curve"] / result["peak_periodogram_ms"], abs=0.002)
    assert result["cost_vs_peak_periodogram_full_search"] > 1
    assert result["budget_ms_per_curve"] == os.cpu_count() * 1000 / 500  # ms of CPU per curve the goal allows
    assert result["fft_floor_ms_per_curve"] > 0 and result["floor_max_curves_per_s"] > result["project_max_curves_per_s"]
    assert result["statistics_only_ms_per_curve"] == pytest.approx(result["read_ms"] + result["statistics_ms"], abs=0.002)
    assert result["statistics_only_max_curves_per_s"] > result["project_max_curves_per_s"]


def test_refusal_benchmark_ends_with_the_slowest_refusal(tmp_path):
    result = _run_benchmark("refusal.py", "--repeats", "1", tmp_path=tmp_path)
    assert 0 < result["slowest_refusal_s"] and 0 < result["tensorflow_import_s"]


@pytest.mark.spark
def test_spark_benchmark_reports_throughput_and_scaling_beside_one_machine(tmp_path):
    result = _run_benchmark("spark_predict.py", "--curves", "30", tmp_path=tmp_path)
    assert result["spark_curves_per_s"] > 0 and result["local_curves_per_s"] > 0 and result["scaling_efficiency"] > 0
