"""`ltc-control`: one command, one subcommand per job (demo, train, bringup, explain, ...).

Each subcommand lives in its own module and registers itself in SUBCOMMANDS; heavy imports
(torch, mujoco, rclpy) happen inside the subcommand, so `ltc-control --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help). Each module defines add_arguments(parser) and run(args) -> int.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("ltc_control.cli.demo", "closed-loop demo on the embedded sim, over real ROS topics"),
    "bringup": (
        "ltc_control.cli.bringup",
        "run a launch file's nodes in one process (no ros2 launch)",
    ),
    "safety-eval": (
        "ltc_control.cli.safety_eval",
        "closed-loop evaluation of the safety filter in MuJoCo",
    ),
    "urdf": ("ltc_control.cli.urdf", "print a robot's URDF with ros2_control tags"),
    "explain": ("ltc_control.cli.explain", "explain a policy: activity, tau, saliency, trees"),
    "export": ("ltc_control.cli.export", "export a policy step to ONNX, checked with onnxruntime"),
    "train": ("ltc_control.cli.train", "train policies from config/<robot>/train.yaml"),
    "evaluate": ("ltc_control.cli.evaluate", "closed-loop episodes of a policy vs the expert"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltc-control", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
