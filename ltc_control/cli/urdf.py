"""`ltc-control urdf`: print a robot's URDF with ros2_control tags (used by gazebo.launch.xml)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ltc_control.robots import load_robot_description
from ltc_control.robots.urdf_export import GAZEBO_HARDWARE, ros2_control_urdf


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--robot", default="panda", help="robot description name or YAML path")
    parser.add_argument("--hardware", default=GAZEBO_HARDWARE, help="ros2_control hardware plugin")
    parser.add_argument("--controllers", type=Path, help="controllers YAML for gz_ros2_control")
    parser.add_argument("--output", type=Path, help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    text = ros2_control_urdf(load_robot_description(args.robot), args.hardware, args.controllers)
    if args.output:
        args.output.write_text(text)
    else:
        print(text)
    return 0
