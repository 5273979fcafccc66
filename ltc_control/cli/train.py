"""`ltc-control train --config config/train_<robot>.yaml`: train policies and write model files.

The config is validated before anything runs (TrainingConfigError naming the key, exit code 2).
Writes each model's file (models/...), a JSON report and a PNG of the loss curves (report_dir).
"""

from __future__ import annotations

import argparse
import sys

from ltc_control.errors import LtcControlError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, help="training config YAML (config/train_*.yaml)"
    )
    parser.add_argument(
        "--model", action="append", default=[], help="train only this model name (repeatable)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ltc_control.training.config import load_train_config

    try:
        config = load_train_config(args.config)
        if args.model:
            config = config.select(args.model)
    except LtcControlError as exc:
        print(f"ltc-control train: {exc}", file=sys.stderr)
        return 2
    from tqdm import tqdm

    from ltc_control.training.trainer import quiet, run_training

    try:
        data, results = run_training(config, progress=quiet if args.quiet else tqdm)
    except LtcControlError as exc:
        print(f"ltc-control train: {exc}", file=sys.stderr)
        return 1
    print(
        f"data: {data.report['episodes_train']} train / {data.report['episodes_validation']} "
        f"validation episodes, {data.report['samples_train']} samples"
    )
    for result in results:
        r = result.report
        print(
            f"{result.name}: {r['seconds']:.0f} s, train loss {r['final_train_loss']:.4f}, "
            f"validation loss {r['final_validation_loss']:.4f}"
            f"{' (stopped at time budget)' if r['stopped_early'] else ''}"
        )
        print(
            f"  model  {result.model_path}\n  report {result.report_path}\n  plot   {result.plot_path}"
        )
    return 0
