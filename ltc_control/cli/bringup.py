"""`ltc-control bringup`: a launch file's ltc_control nodes in one process, for machines without
`ros2 launch`. Same launch XML, same parameter files; arguments as `name:=value`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ltc_control.errors import ConfigError
from ltc_control.resources import share_dir

DEFAULT_LAUNCH_FILE = "sim.launch.xml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "launch_file",
        nargs="?",
        default=DEFAULT_LAUNCH_FILE,
        help=f"launch file in the package's launch/ folder, or a path ({DEFAULT_LAUNCH_FILE})",
    )
    parser.add_argument("arguments", nargs="*", help="launch arguments, name:=value")
    parser.add_argument(
        "--busy-poll",
        action="store_true",
        help="poll for work instead of blocking: fewer missed cycles at 1 kHz, more CPU",
    )


def run(args: argparse.Namespace) -> int:
    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.spin import serve

    launch_file, arguments = args.launch_file, list(args.arguments)
    if ":=" in launch_file:  # `bringup robot:=x`: arguments only, the default launch file
        launch_file, arguments = DEFAULT_LAUNCH_FILE, [launch_file, *arguments]
    path = Path(launch_file)
    if not path.is_file():
        path = share_dir() / "launch" / launch_file
    overrides = dict(_argument(text) for text in arguments)

    def build(context: object) -> list[object]:
        bringup = build_nodes(path, overrides, context)
        for skipped in bringup.skipped:
            print(
                f"[bringup] not started here (a ROS 2 package): {skipped.package}/{skipped.executable}"
            )
        return bringup.nodes

    # No ROS arguments for the process: the launch arguments (name:=value) are not remap rules,
    # and each node gets its own --ros-args from the launch file.
    try:
        return serve(build, args=[], busy_poll=args.busy_poll)
    except ConfigError as exc:  # a launch file or argument that cannot start
        print(f"[bringup] {exc}", file=sys.stderr)
        return 2


def _argument(text: str) -> tuple[str, str]:
    name, separator, value = text.partition(":=")
    if not separator:
        raise SystemExit(f"launch arguments are name:=value, got {text!r}")
    return name, value
