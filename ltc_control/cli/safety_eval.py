"""`ltc-control safety-eval ROBOT [...]`: the safety filter's closed-loop evaluation in MuJoCo
(aggressive nominal controller, with or without the filter, optional mass mismatch).
Arguments are those of `python -m ltc_control.evaluation.safety_episodes`."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "arguments",
        nargs=argparse.REMAINDER,
        help="ROBOT [--episodes N] [--duration S] [--seed N] [--no-filter] [--mass-spread F] [--set key=value ...]",
    )


def run(args: argparse.Namespace) -> int:
    from ltc_control.evaluation.safety_episodes import main

    main(args.arguments)
    return 0
