"""`ltc-control bringup [LAUNCH_FILE] [name:=value ...]`: a launch file's ltc_control nodes in one
process, for machines without `ros2 launch`. Same launch XML, same parameter files; launch
arguments as `name:=value`. Runs until Ctrl-C (SIGINT) or SIGTERM; nodes of other packages
(Gazebo, controller_manager) are listed, not started."""

from __future__ import annotations

import argparse
from pathlib import Path

from ltc_control.cli.arguments import robot_name_or_yaml
from ltc_control.errors import ConfigError, did_you_mean
from ltc_control.resources import launch_path, share_dir

DEFAULT_LAUNCH_FILE = "sim.launch.xml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "launch_file",
        nargs="?",
        default=DEFAULT_LAUNCH_FILE,
        help="launch file in the package's launch/ folder, or a path",
    )
    parser.add_argument("arguments", nargs="*", help="launch arguments, name:=value")
    parser.add_argument(
        "--busy-poll",
        action="store_true",
        help="poll for work instead of blocking: fewer missed cycles at 1 kHz, more CPU",
    )
    parser.epilog = _launch_files_help()


def run(args: argparse.Namespace) -> int:
    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.spin import serve

    launch_file, arguments = args.launch_file, list(args.arguments)
    if ":=" in launch_file:  # `bringup robot:=x`: arguments only, the default launch file
        launch_file, arguments = DEFAULT_LAUNCH_FILE, [launch_file, *arguments]
    path = _launch_path(launch_file)
    overrides = dict(_argument(text) for text in arguments)
    if "robot" in overrides:  # every launch file's robot: a name in config/ or a YAML
        try:
            robot_name_or_yaml(overrides["robot"])
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"launch argument robot: {exc}") from None

    def build(context: object) -> list[object]:
        bringup = build_nodes(path, overrides, context)
        for skipped in bringup.skipped:
            print(
                f"[bringup] not started here (a ROS 2 package): {skipped.package}/{skipped.executable}"
            )
        names = ", ".join(node.get_fully_qualified_name() for node in bringup.nodes)
        print(f"[bringup] {path.name}: running {names} in this process; Ctrl-C stops them")
        return bringup.nodes

    # No ROS arguments for the process: the launch arguments (name:=value) are not remap rules,
    # and each node gets its own --ros-args from the launch file.
    return serve(build, args=[], busy_poll=args.busy_poll)


def _launch_files() -> list[Path]:
    return sorted((share_dir() / "launch").glob("*.launch.xml"))


def _launch_path(launch_file: str) -> Path:
    path = Path(launch_file)
    if path.is_file():
        return path
    shipped = launch_path(launch_file)
    if shipped.is_file():
        return shipped
    known = [p.name for p in _launch_files()]
    raise ConfigError(
        f"launch file {launch_file!r} not found{did_you_mean(launch_file, known)}; "
        f"launch files: {', '.join(known)}"
    )


def _argument(text: str) -> tuple[str, str]:
    name, separator, value = text.partition(":=")
    if not separator:
        raise ConfigError(f"launch arguments are name:=value, got {text!r}")
    return name, value


def _launch_files_help() -> str:
    """The shipped launch files and their arguments (default and description), for --help."""
    from ltc_control.nodes.launch_xml import read_launch_file

    lines = ["launch files (launch/) and their arguments:"]
    for path in _launch_files():
        lines.append(f"  {path.name}")
        launch = read_launch_file(path)
        for name, default in launch.arguments.items():
            lines.append(f"    {name}:={default!r}  {launch.descriptions[name]}")
    return "\n".join(lines)
