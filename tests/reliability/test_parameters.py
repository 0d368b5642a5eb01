"""Every entry point refuses bad parameters before any work, saying what is allowed."""

import os
import subprocess
import sys

import pytest

from vsexp.cli import main

CASES = [
    (["preprocess", "--source", "crts:/no/such/dir"], "does not exist"),
    (["train_lstm", "--epochs", "-3"], "fit.epochs must be >= 1"),
    (["train_cnn", "--set", "model.kernels=3,5"], "must be non-empty and of equal length"),
    (["train_baseline", "--size", "enormous"], "allowed: tiny, small, medium, paper"),
    (["train_lstm", "--preset", "nope"], "unknown preset 'nope'"),
    (["train_lstm", "--set", "model.name=transformer"], "unknown model 'transformer'"),
    (["train_baseline", "--set", "features.max_frequency=500"], "features.max_frequency must be in [0.1, 100.0]"),
    (["crossval", "--set", "features.version=4"], "features.version must be one of 1, 2, 3, got 4"),
    (["train_baseline", "--set", "features.single_precision=maybe"], "features.single_precision: expected true or false"),
    (["evaluate", "--model", "models:/nothing@champion", "--split", "holdout"], "allowed: test, validation, train, all"),
    (["evaluate", "--model", "models:/no-such-model@champion"], "cannot load model"),
    (["promote", "--name", "x", "--metric", "auc"], "allowed: macro_f1"),
    (["promote", "--name", "no-such-model"], "no registered model 'no-such-model'"),
    (["promote", "--name", "x", "--max-recall-drop", "2"], "--max-recall-drop must be in [0, 1]"),
    (["predict", "--model", "models:/x@champion", "--input", "/no/such/folder", "--output", "p.csv"], "not a folder"),
    (["predict", "--model", "models:/x@champion", "--input", ".", "--output", "p.xlsx"], "must end in .csv or .parquet"),
    (["tune", "--model", "baseline"], "tune searches a model with a search space: model must be"),
    (["tune", "--backend", "grid"], "allowed: optuna, keras-tuner"),
    (["tune", "--storage", "postgres:/oops"], "malformed storage"),
    (["tune", "--pruner", "sometimes"], "allowed: median, hyperband, none, threshold:NUMBER"),
    (["tune", "--n-trials", "-1"], "n_trials must be >= 0"),
    (["crossval", "--model", "transformer"], "unknown model 'transformer'"),
    (["crossval", "--splits", "train,holdout"], "allowed: train, validation, test"),
    (["crossval", "--preset", "tiny", "--folds", "1"], "at least 2 folds"),
    (["crossval_combine", "--run", "a,b", "--method", "vote"], "unknown combination method 'vote'"),
    (["crossval_combine", "--run", "a"], "at least two crossval runs"),
]


@pytest.mark.parametrize("argv, words", CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_bad_parameter_refused_before_any_work(argv, words, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("VSEXP_CACHE_DIR", str(tmp_path / "cache"))
    import mlflow

    runs_before = len(mlflow.search_runs(search_all_experiments=True, output_format="list"))
    assert main(argv) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()  # no dataset was built
    assert len(mlflow.search_runs(search_all_experiments=True, output_format="list")) == runs_before


@pytest.mark.parametrize("argv", [["predict", "--model", "m", "--input", ".", "--output", "o.csv", "--batch-size", "0"],
                                  ["promote", "--name", "x", "--min-improvement", "-0.1"]])
def test_argument_types_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


NEEDS_THE_STORE = ("cannot load model", "no registered model", "malformed storage")  # refused by looking it up
HEAVY_MODULES = ("tensorflow", "keras", "mlflow", "sklearn", "pandas", "optuna")
CHECK = ("import sys; from vsexp.cli import main; code = main(sys.argv[1:]); "
         f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules)); sys.exit(code)")


QUICK_CASES = [case for case in CASES if not any(words in case[1] for words in NEEDS_THE_STORE)]


@pytest.mark.parametrize("argv, words", QUICK_CASES, ids=[" ".join(c[0][:3]) for c in QUICK_CASES])
def test_bad_parameter_refused_before_any_heavy_import(argv, words, tmp_path):
    """A refusal reads only vsexp's configs: nothing as slow to import as TensorFlow or MLflow
    (``benchmarks/refusal.py`` times it)."""
    result = subprocess.run([sys.executable, "-c", CHECK, *argv], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, VSEXP_CACHE_DIR=str(tmp_path / "cache")))
    assert result.returncode == 2 and words in result.stderr, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"imported before refusing: {result.stdout}"
