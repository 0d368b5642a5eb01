"""The ``vsexp`` command line: one sub-command per MLflow entry point, nothing more.

Every command takes a preset (``vsexp/presets/*.toml``), a few common overrides and any
number of ``--set key=value`` settings; it checks them all before doing any work, and prints its
result as one JSON line last.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys

from vsexp.config import (COMBINATION_METHODS, ENGINES, EVALUATION_SPLITS, PROMOTION_METRICS, SEARCH_BACKENDS,
                          SPARSITY_MODES, SPLITS, check_choices, check_pruner, comma_separated, parse_class_map,
                          parse_source)
from vsexp.console import quiet_warnings
from vsexp.errors import ConfigError, VsexpError
from vsexp.train_config import TrainConfig, with_overrides

log = logging.getLogger("vsexp")


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got '{text}'")
    return key.strip(), value.strip()


def _integer(text: str) -> int | None:
    """An integer, also from MLflow's float-typed parameters ("42.0"); empty means unset."""
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
    if value != int(value):
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'")
    return int(value)


def _settings(text: str) -> list[tuple[str, str]]:
    """Whitespace-separated key=value pairs (how MLproject passes --set values)."""
    return [_setting(item) for item in text.split()]


def _add_config_arguments(parser: argparse.ArgumentParser, default_model: str | None = None) -> None:
    parser.add_argument("--preset", default="ogle_small", help="a preset in vsexp/presets (default: ogle_small)")
    parser.add_argument("--source", help="synthetic-ogle, synthetic-crts, ogle:DIR, crts:DIR, generic:PATH")
    parser.add_argument("--size", help="synthetic size: tiny, small, medium, paper")
    parser.add_argument("--seed", type=_integer, help="seeds the simulator, the split and training")
    parser.add_argument("--epochs", type=_integer, help="maximum training epochs")
    parser.add_argument("--set", dest="settings", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                        help="any config setting, e.g. --set model.filters=16,32,32,64 (repeatable)")
    parser.add_argument("--settings", dest="settings_string", type=_settings, default=[], metavar="'K=V K=V'",
                        help="several settings in one string (what MLproject passes)")
    if default_model:
        parser.add_argument("--model", default=default_model, help="lstm, cnn or baseline")


def overrides_from_args(args) -> dict[str, str]:
    """The common flags, then ``--settings`` and ``--set`` values, as flat config keys."""
    overrides = {}
    if args.source:
        overrides["data.source"] = args.source
    if args.size:
        overrides["data.size"] = args.size
    if args.seed is not None:
        overrides["data.seed"] = overrides["fit.seed"] = args.seed
    if args.epochs is not None:
        overrides["fit.epochs"] = args.epochs
    if getattr(args, "branches", ""):
        overrides["model.branches"] = args.branches
    overrides.update(dict(args.settings_string))
    overrides.update(dict(args.settings))
    return overrides


def config_from_args(args, model: str = "lstm") -> TrainConfig:
    """Preset, then the common flags, then ``--set`` values; unknown keys and bad values are refused."""
    from vsexp.presets import load_preset

    config = load_preset(args.preset, getattr(args, "model", None) or model)
    overrides = overrides_from_args(args)
    config = with_overrides(config, overrides) if overrides else config
    _check_source(config.data.source)
    return config


def _check_source(source: str) -> None:
    parse_source(source)  # raises DatasetError naming the source when it does not exist


def cmd_preprocess(args) -> dict:
    config = config_from_args(args)
    from vsexp.pipelines.preprocess import preprocess

    _, summary = preprocess(config.data, config.sequence, config.dmdt, config.features, rebuild=args.rebuild)
    return summary


def cmd_train(args) -> dict:
    config = config_from_args(args)
    from vsexp.pipelines.train import train

    return train(config, register=not args.no_register, entry_point=f"train_{args.model}")


def cmd_evaluate(args) -> dict:
    if args.split:
        check_choices("split", args.split, EVALUATION_SPLITS)
    if args.data:
        parse_source(args.data)
    class_map = parse_class_map(args.class_map)
    from vsexp.pipelines.evaluate import evaluate

    return evaluate(args.model_uri, args.data or None, args.split or None, class_map=class_map)


def cmd_main(args) -> dict:
    from vsexp.presets import configs_for_models

    configs = configs_for_models(args.preset, overrides_from_args(args))
    _check_source(next(iter(configs.values())).data.source)
    from vsexp.pipelines.main import run_main

    summary = run_main(configs)
    print(summary.pop("comparison"), file=sys.stderr)
    return summary


def cmd_promote(args) -> dict:
    check_choices("promotion metric", args.metric, PROMOTION_METRICS)
    if args.force and not args.reason.strip():
        raise ConfigError("a forced promotion needs a reason (--reason)")
    if args.data:
        parse_source(args.data)
    if args.max_recall_drop > 1:
        raise ConfigError(f"--max-recall-drop must be in [0, 1], got {args.max_recall_drop}")
    from vsexp.pipelines.promote import promote

    return promote(args.name, metric=args.metric, min_improvement=args.min_improvement,
                   max_recall_drop=args.max_recall_drop, source=args.data or None, force=args.force, reason=args.reason)


def cmd_predict(args) -> dict:
    if args.min_points is not None and args.min_points < 2:
        raise ConfigError(f"--min-points must be >= 2, got {args.min_points}")
    check_choices("engine", args.engine, ENGINES)
    if args.engine == "spark":
        remote = "://" in args.input  # hdfs://, s3a://...: Spark reads it
        if not (remote or os.path.isdir(args.input) or args.input.endswith(".parquet") and os.path.isfile(args.input)):
            raise ConfigError(f"{args.input}: neither a folder of light curves nor a survey .parquet file")
    elif not os.path.isdir(args.input):
        raise ConfigError(f"{args.input}: not a folder of light curves")
    elif not args.output.endswith((".csv", ".parquet")):
        raise ConfigError(f"output '{args.output}' must end in .csv or .parquet")
    from vsexp.pipelines.outputs import predict

    return predict(args.model_uri, args.input, args.output, fmt=args.format, batch_size=args.batch_size,
                   min_points=args.min_points, engine=args.engine, master=args.master)


def cmd_convert(args) -> dict:
    if not os.path.isdir(args.input):
        raise ConfigError(f"{args.input}: not a folder of light curves")
    if not args.output.endswith(".parquet"):
        raise ConfigError(f"output '{args.output}' must end in .parquet")
    from vsexp.pipelines.outputs import convert

    return convert(args.input, args.output, fmt=args.format)


def cmd_report(args) -> dict:
    from vsexp.pipelines.outputs import report

    return report(args.output, [e for e in args.experiments.split(",") if e] or None)


def cmd_tune(args) -> dict:
    check_choices("search backend", args.backend, SEARCH_BACKENDS)
    from vsexp.models.registry import family, family_names

    searchable = [name for name in family_names(variants=True) if family(name).searchable]
    if args.model not in searchable:
        raise ConfigError(f"tune searches a model with a search space: model must be {', '.join(searchable)}, "
                          f"got '{args.model}'")
    if args.n_trials is not None and args.n_trials < 0:
        raise ConfigError(f"n_trials must be >= 0, got {args.n_trials}")
    if args.pruner:
        check_pruner(args.pruner)
    config = config_from_args(args)
    from vsexp.pipelines.tune import tune

    return tune(config, backend=args.backend, study_name=args.study or None, storage=args.storage or None,
                n_trials=args.n_trials, timeout=args.timeout, total_trials=args.total_trials, pruner=args.pruner,
                retrain_best=not args.no_retrain, seed=config.fit.seed)


def cmd_crossval(args) -> dict:
    splits = comma_separated(args.splits)
    check_choices("split", splits, SPLITS)
    if args.folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, got {args.folds}")
    config = config_from_args(args)
    from vsexp.pipelines.crossval import crossval

    return crossval(config, folds=args.folds, splits=splits)


def cmd_sparsity(args) -> dict:
    points = tuple(_positive(p) for p in args.points.split(",") if p)
    modes = tuple(m for m in args.modes.split(",") if m)
    check_choices("sparsity mode", modes, SPARSITY_MODES)
    from vsexp.pipelines.sparsity import sparsity

    return sparsity(_model_uris(args.model_uris), points=points, modes=modes, seed=args.seed, reference=args.reference or None)


def cmd_transfer(args) -> dict:
    shots = tuple(_integer(n) for n in args.shots.split(",") if n)
    if not shots or min(shots) < 0:
        raise ConfigError(f"shots must be counts >= 0, got '{args.shots}'")
    parse_source(args.data)
    class_map = parse_class_map(args.class_map)
    from vsexp.pipelines.transfer import transfer

    return transfer(args.model_uri, args.data, class_map=class_map, shots=shots,
                    epochs=args.epochs, learning_rate=args.learning_rate, seed=args.seed or 0)


def cmd_crossval_combine(args) -> dict:
    check_choices("combination method", args.method, COMBINATION_METHODS)
    run_ids = _model_uris(args.run_ids)
    if len(run_ids) < 2:
        raise ConfigError(f"combining needs at least two crossval runs, got {len(run_ids)}")
    from vsexp.pipelines.crossval import combine_crossval

    return combine_crossval(run_ids, args.method, seed=args.seed or 0)


def cmd_ensemble(args) -> dict:
    check_choices("combination method", args.method, COMBINATION_METHODS)
    from vsexp.pipelines.ensemble import train_ensemble

    return train_ensemble(_model_uris(args.model_uris), args.method, seed=args.seed or 0, register=not args.no_register)


def _model_uris(values: list[str]) -> list[str]:
    """Model URIs from repeated ``--model`` options, each possibly a comma-separated list (MLproject)."""
    return [uri.strip() for value in values for uri in value.split(",") if uri.strip()]


def _positive(text: str) -> int:
    value = _integer(text)
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return value


def _non_negative_float(text: str) -> float | None:
    """A number >= 0; empty means unset (MLproject's string defaults)."""
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got '{text}'")
    return value


def _add_train_arguments(command: argparse.ArgumentParser, model: str | None) -> None:
    _add_config_arguments(command)
    command.add_argument("--no-register", action="store_true", help="log the model but do not register it")
    if model is None:
        command.add_argument("--model", required=True, help=f"a model: {', '.join(n for n, _ in model_commands())}")
    command.add_argument("--branches", default="", help="a multi-input model's inputs, e.g. folded,features,dmdt,"
                         "sequence (default: the preset's)")
    command.set_defaults(handler=cmd_train, **({"model": model} if model else {}))


def model_commands() -> list[tuple[str, str]]:
    from vsexp.models.registry import commands

    return commands()


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    common.add_argument("--experiment-name", default="",
                        help="the MLflow experiment for this command's runs (default: vsexp-<survey> of the data)")
    parser = argparse.ArgumentParser(prog="vsexp", description="Variable-star light-curve classification experiments")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser = functools.partial(commands.add_parser, parents=[common])

    preprocess = commands.add_parser("preprocess", help="build a dataset and its representations, tracked in MLflow")
    _add_config_arguments(preprocess)
    preprocess.add_argument("--rebuild", action="store_true", help="rebuild even when a stored dataset matches")
    preprocess.set_defaults(handler=cmd_preprocess)

    train = commands.add_parser("train", help="train, evaluate and register any model (--model NAME)")
    _add_train_arguments(train, None)
    for model, text in model_commands():  # one per model family (and variant): train_lstm, train_cnn...
        _add_train_arguments(commands.add_parser(f"train_{model}", help=f"train, evaluate and register {text}"), model)

    evaluate = commands.add_parser("evaluate", help="score a registered model or run on a dataset split")
    evaluate.add_argument("--model", dest="model_uri", required=True,
                          help="models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN_ID/model")
    evaluate.add_argument("--data", default="", help="a source to build like the training data (default: the training data)")
    evaluate.add_argument("--split", default="", help="test, validation, train or all (default: test of the model's "
                          "own data; all of another source given by --data)")
    evaluate.add_argument("--class-map", default="", help="cross-survey transfer: DATA=MODEL classes, e.g. "
                          "RRab=RRL,RRc=RRL,RRd=RRL,EW=ECLP,EA=ECLP")
    evaluate.set_defaults(handler=cmd_evaluate)

    main_job = commands.add_parser("main", help="preprocess, train the three models, compare with the paper")
    _add_config_arguments(main_job)
    main_job.set_defaults(handler=cmd_main)

    tune = commands.add_parser("tune", help="search filters, kernels and more (Optuna or Keras Tuner)")
    _add_config_arguments(tune)
    tune.add_argument("--model", default="lstm", help="lstm (default) or any model with a search space: cnn, multi, hybrid...")
    tune.add_argument("--backend", default="optuna", help="optuna (default) or keras-tuner")
    tune.add_argument("--study", default="", help="study name (default: <model>-<survey>-<preset>); re-using it resumes")
    tune.add_argument("--storage", default="", help="journal:PATH (default under cache/optuna) or postgresql://USER@HOST/DB")
    tune.add_argument("--n-trials", type=_integer, default=10, help="trials this worker runs (0: only summarise/refit)")
    tune.add_argument("--timeout", type=_non_negative_float, default=None, help="seconds this worker searches at most")
    tune.add_argument("--total-trials", type=_integer, default=None, help="stop when the study has this many finished trials")
    tune.add_argument("--pruner", default="median", help="median (default), hyperband, none or threshold:X")
    tune.add_argument("--no-retrain", action="store_true", help="skip refitting the best configuration (extra workers)")
    tune.set_defaults(handler=cmd_tune)

    cross = commands.add_parser("crossval", help="k-fold cross-validated scores of any model (out-of-fold predictions)")
    _add_config_arguments(cross)
    cross.add_argument("--model", default="baseline",
                       help="baseline (default: the forest, or boosted trees with model.kind=boosted) or any other "
                            "model (lstm, cnn, multi, hybrid...); a network trains fit.epochs epochs per fold")
    cross.add_argument("--folds", type=_positive, default=5, help="stratified folds (default 5)")
    cross.add_argument("--splits", default="train,validation",
                       help="the stars to cross-validate: train,validation (default; never the test split) "
                            "or train,validation,test (a configuration fixed beforehand)")
    cross.set_defaults(handler=cmd_crossval)

    combine = commands.add_parser("crossval_combine",
                                  help="score every combination of crossval runs' models on their out-of-fold stars")
    combine.add_argument("--run", dest="run_ids", action="append", default=[], required=True,
                         help="a crossval run id (repeatable, or comma-separated); same dataset, splits, folds and seed")
    combine.add_argument("--method", default="average", help="average (default) or stacking")
    combine.add_argument("--seed", type=_integer, default=0)
    combine.set_defaults(handler=cmd_crossval_combine)

    sparse = commands.add_parser("sparsity", help="score models on test curves cut to fewer points")
    sparse.add_argument("--model", dest="model_uris", action="append", default=[],
                        help="a model URI (repeatable, or comma-separated)")
    sparse.add_argument("--points", default="20,40,60,100,200", help="points per curve, comma-separated")
    sparse.add_argument("--modes", default="random,seasons", help="random and/or seasons")
    sparse.add_argument("--seed", type=_integer, default=0)
    sparse.add_argument("--reference", default="", help="the model to compare with (default: the first forest)")
    sparse.set_defaults(handler=cmd_sparsity)

    transfer = commands.add_parser("transfer", help="score a model on another survey, then fine-tune on a few curves")
    transfer.add_argument("--model", dest="model_uri", required=True, help="a Keras model URI (the forest: --shots 0)")
    transfer.add_argument("--data", required=True, help="the target source, e.g. crts:DIR")
    transfer.add_argument("--class-map", default="", help="DATA=MODEL classes, e.g. RRab=RRL,RRc=RRL,EW=ECLP")
    transfer.add_argument("--shots", default="0,10,50", help="labelled target curves per class, comma-separated")
    transfer.add_argument("--epochs", type=_positive, default=30, help="fine-tuning epochs")
    transfer.add_argument("--learning-rate", type=_non_negative_float, default=1e-4)
    transfer.add_argument("--seed", type=_integer, default=0)
    transfer.set_defaults(handler=cmd_transfer)

    ensemble = commands.add_parser("train_ensemble", help="combine trained models (calibrated averaging or stacking)")
    ensemble.add_argument("--model", dest="model_uris", action="append", default=[], required=True,
                          help="a member model URI (repeatable, or comma-separated); all trained on one dataset")
    ensemble.add_argument("--method", default="stacking", help="stacking (default) or average")
    ensemble.add_argument("--seed", type=_integer, default=0)
    ensemble.add_argument("--no-register", action="store_true", help="log the model but do not register it")
    ensemble.set_defaults(handler=cmd_ensemble)

    promote = commands.add_parser("promote", help="move the champion alias to the challenger if it wins")
    promote.add_argument("--name", required=True, help="registered model, e.g. vsexp-crts-lstm")
    promote.add_argument("--metric", default="macro_f1", help="macro_f1 (default), weighted_f1, accuracy, balanced_accuracy")
    promote.add_argument("--min-improvement", type=_non_negative_float, default=0.0,
                         help="the challenger must beat the champion by more than this")
    promote.add_argument("--max-recall-drop", type=_non_negative_float, default=0.05,
                         help="no class's recall may fall below the champion's by more than this (default 0.05)")
    promote.add_argument("--data", default="", help="score both on this source's test split (default: the challenger's data)")
    promote.add_argument("--force", action="store_true", help="promote regardless of scores (recorded, needs --reason)")
    promote.add_argument("--reason", default="", help="why a forced promotion was made")
    promote.set_defaults(handler=cmd_promote)

    predict = commands.add_parser("predict", help="classify a folder of light-curve files")
    predict.add_argument("--model", dest="model_uri", required=True, help="models:/NAME@champion, runs:/ID/model, ...")
    predict.add_argument("--input", required=True, help="folder of light-curve files (any supported format)")
    predict.add_argument("--output", required=True, help="predictions file, .csv or .parquet")
    predict.add_argument("--format", default="auto", help="auto (default), ogle, crts or generic")
    predict.add_argument("--batch-size", type=_positive, default=2048)
    predict.add_argument("--min-points", type=_integer, default=None,
                         help="shorter curves get an error row (default: the model's own minimum, data.min_points)")
    predict.add_argument("--engine", default="local", help="local (default: this machine, a CSV/Parquet file) or "
                         "spark (mlflow.pyfunc.spark_udf; --input a folder or a survey .parquet, --output a folder)")
    predict.add_argument("--master", default="local[*]", help="Spark master (default local[*]: every core here)")
    predict.set_defaults(handler=cmd_predict)

    convert = commands.add_parser("convert", help="write a folder of survey files as Parquet, one row per star")
    convert.add_argument("--input", required=True, help="folder of light-curve files (any supported format)")
    convert.add_argument("--output", required=True, help="the .parquet file to write")
    convert.add_argument("--format", default="auto", help="auto (default), ogle, crts or generic")
    convert.set_defaults(handler=cmd_convert)

    report = commands.add_parser("report", help="write the comparison report from the tracking store")
    report.add_argument("--output", default="reports/out", help="folder for report.md, report.html, figures")
    report.add_argument("--experiments", default="", help="comma-separated experiment names (default: all)")
    report.set_defaults(handler=cmd_report)
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("urllib3", "matplotlib", "numba", "h5py", "absl", "alembic", "git"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if not sys.stderr.isatty():  # MLflow's artifact download bars are noise in logs
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    quiet_warnings()
    if args.experiment_name:
        os.environ["MLFLOW_EXPERIMENT_NAME"] = args.experiment_name
    signal.signal(signal.SIGTERM, _interrupt)  # like Ctrl-C: the run ends KILLED and a rerun resumes it
    try:
        result = args.handler(args)
    except VsexpError as error:
        print(f"vsexp {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(f"vsexp {args.command}: interrupted ({interrupt or 'SIGINT'})", file=sys.stderr)
        return 143 if str(interrupt) == "SIGTERM" else 130
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
