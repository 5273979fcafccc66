"""`ltc-control train --config config/<robot>/train.yaml`: train policies and write model files.

The config is validated before anything runs (TrainingConfigError naming the key, exit code 2),
including the refusal to overwrite a shipped model without --force. Writes each model's file
(models[].output), a JSON report and a PNG of the loss curves (report_dir); relative paths in the
config resolve against the config file's folder.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, help="training config YAML (e.g. config/panda/train.yaml)"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite the package's shipped model files"
    )
    parser.add_argument(
        "--model", action="append", default=[], help="train only this model name (repeatable)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ltc_control.training.config import load_train_config

    config = load_train_config(args.config)  # checked whole before anything runs
    if args.model:
        config = config.select(args.model)
    config.check_outputs(args.force)
    from tqdm import tqdm

    from ltc_control.training.trainer import quiet, run_training

    data, results = run_training(config, progress=quiet if args.quiet else tqdm, force=args.force)
    print(
        f"data: {data.report['episodes_train']} train / {data.report['episodes_validation']} "
        f"validation episodes, {data.report['samples_train']} samples"
    )
    for result in results:
        r = result.report
        print(
            f"{result.name}: {r['seconds']:.0f} s, train loss {r['final_train_loss']:.4f}, "
            f"validation loss {_loss(r['final_validation_loss'])}"
            f"{' (stopped at time budget)' if r['stopped_early'] else ''}"
        )
        print(
            f"  model  {result.model_path}\n  report {result.report_path}\n  plot   {result.plot_path}"
        )
    return 0


def _loss(value: float | None) -> str:
    return "none (no validation episodes)" if value is None else f"{value:.4f}"
