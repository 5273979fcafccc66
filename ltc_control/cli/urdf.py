"""`ltc-control urdf`: print a robot's URDF with ros2_control tags (used by gazebo.launch.xml)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ltc_control.cli.arguments import new_file, robot_name_or_yaml
from ltc_control.robots.urdf_export import GAZEBO_HARDWARE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--robot",
        type=robot_name_or_yaml,
        default="panda",
        help="robot (config/<robot>/), or a robot description YAML path",
    )
    parser.add_argument("--hardware", default=GAZEBO_HARDWARE, help="ros2_control hardware plugin")
    parser.add_argument(
        "--controllers", type=Path, help="controllers YAML for gz_ros2_control (path as written)"
    )
    parser.add_argument("--output", type=new_file, help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from ltc_control.robots import load_robot_description
    from ltc_control.robots.urdf_export import ros2_control_urdf

    text = ros2_control_urdf(load_robot_description(args.robot), args.hardware, args.controllers)
    if args.output:
        args.output.write_text(text)
    else:
        print(text)
    return 0
