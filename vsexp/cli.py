"""The ``vsexp`` command line: one sub-command per MLflow entry point, nothing more.

Every command takes a preset (``experiments/presets/*.toml``), a few common overrides and any
number of ``--set key=value`` settings; it checks them all before doing any work, and prints its
result as one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from vsexp.config import TrainConfig, with_overrides
from vsexp.errors import VsexpError

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
    parser.add_argument("--preset", default="ogle_small", help="a preset in experiments/presets (default: ogle_small)")
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


def config_from_args(args, model: str = "lstm") -> TrainConfig:
    """Preset, then the common flags, then ``--set`` values; unknown keys and bad values are refused."""
    from vsexp.presets import load_preset

    config = load_preset(args.preset, getattr(args, "model", None) or model)
    overrides = {}
    if args.source:
        overrides["data.source"] = args.source
    if args.size:
        overrides["data.size"] = args.size
    if args.seed is not None:
        overrides["data.seed"] = overrides["fit.seed"] = args.seed
    if args.epochs is not None:
        overrides["fit.epochs"] = args.epochs
    overrides.update(dict(args.settings_string))
    overrides.update(dict(args.settings))
    config = with_overrides(config, overrides) if overrides else config
    _check_source(config.data.source)
    return config


def _check_source(source: str) -> None:
    from vsexp.dataset.build import parse_source

    parse_source(source)  # raises DatasetError naming the source when it does not exist


def cmd_preprocess(args) -> dict:
    from vsexp.pipelines.preprocess import preprocess

    config = config_from_args(args)
    _, summary = preprocess(config.data, config.sequence, config.dmdt, rebuild=args.rebuild)
    return summary


def cmd_train(args) -> dict:
    from vsexp.pipelines.train import train

    return train(config_from_args(args), register=not args.no_register)


def cmd_evaluate(args) -> dict:
    from vsexp.pipelines.evaluate import evaluate

    return evaluate(args.model_uri, args.data or None, args.split)


def cmd_main(args) -> dict:
    from vsexp.pipelines.main import configs_for, run_main
    from vsexp.presets import load_preset

    base = config_from_args(args)
    models = {name: load_preset(args.preset, name) for name in ("baseline", "lstm", "cnn")}
    summary = run_main(configs_for(base, models.__getitem__))
    print(summary.pop("comparison"), file=sys.stderr)
    return summary


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsexp", description="Variable-star light-curve classification experiments")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    preprocess = commands.add_parser("preprocess", help="build a dataset and its representations, tracked in MLflow")
    _add_config_arguments(preprocess)
    preprocess.add_argument("--rebuild", action="store_true", help="rebuild even when a stored dataset matches")
    preprocess.set_defaults(handler=cmd_preprocess)

    for model, text in (("lstm", "the paper's 1D CNN-LSTM on padded sequences"),
                        ("cnn", "Mahabal et al.'s 2D CNN on dm-dt maps"),
                        ("baseline", "a random forest on light-curve features")):
        command = commands.add_parser(f"train_{model}", help=f"train, evaluate and register {text}")
        _add_config_arguments(command)
        command.add_argument("--no-register", action="store_true", help="log the model but do not register it")
        command.set_defaults(handler=cmd_train, model=model)

    evaluate = commands.add_parser("evaluate", help="score a registered model or run on a dataset split")
    evaluate.add_argument("--model", dest="model_uri", required=True,
                          help="models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN_ID/model")
    evaluate.add_argument("--data", default="", help="a source to build like the training data (default: the training data)")
    evaluate.add_argument("--split", default="test", help="test (default), validation, train or all")
    evaluate.set_defaults(handler=cmd_evaluate)

    main_job = commands.add_parser("main", help="preprocess, train the three models, compare with the paper")
    _add_config_arguments(main_job)
    main_job.set_defaults(handler=cmd_main)
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("urllib3", "matplotlib", "numba", "h5py", "absl", "alembic", "git"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        result = args.handler(args)
    except VsexpError as error:
        print(f"vsexp {args.command}: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
