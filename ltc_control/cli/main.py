"""`ltc-control`: one command, one subcommand per job (demo, train, bringup, explain, ...).

Each subcommand lives in its own module and registers itself in SUBCOMMANDS; heavy imports
(torch, mujoco, rclpy) happen inside the subcommand, so `ltc-control --help` stays fast.

Every mistake a user can make ends the same way: one line on stderr naming what is wrong, and a
non-zero exit. Arguments are checked by their argparse types (`cli.arguments`, exit 2); what a
subcommand finds wrong later is an `LtcControlError` (exit 2 for configuration, 1 otherwise) or an
OSError (a file that cannot be read or written, exit 1), caught here and nowhere else.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from ltc_control.cli.arguments import Parser, exit_with
from ltc_control.errors import ConfigError, LtcControlError

PROGRAM = "ltc-control"
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


def build_parser() -> Parser:
    parser = Parser(prog=PROGRAM, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        description = module.__doc__ or help_text
        sub_parser = sub.add_parser(name, help=help_text, description=description)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a refused argument (2), already printed
        return int(exc.code or 0)
    program = f"{PROGRAM} {args.command}"
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except LtcControlError as exc:
        return exit_with(program, str(exc), 2 if isinstance(exc, ConfigError) else 1)
    except OSError as exc:
        detail = f"{exc.strerror}: {exc.filename}" if exc.filename and exc.strerror else str(exc)
        return exit_with(program, detail, 1)


if __name__ == "__main__":
    sys.exit(main())
