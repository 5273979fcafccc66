"""In-process bringup: the ltc_control nodes of a launch file, in one process, over real topics.

For machines without the ROS 2 launch system (no `ros2 launch`): reads the same launch XML and
parameter files, builds each ltc_control node with its own `--ros-args` (parameter files,
parameters, remaps), and spins them all on one EventsExecutor (manual composition). Nodes of
other packages (Gazebo, controller_manager, ...) cannot run here and are reported, not faked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ltc_control.nodes.launch_xml import NodeLaunch, read_launch_file
from ltc_control.resources import PACKAGE

EMPTY_YAML_STRING = "''"  # `-p name:=` alone is not an empty string to the ROS parser


def node_factories() -> dict[str, Callable[..., object]]:
    """Executable name -> node class, for every executable the package installs."""
    from ltc_control.nodes.policy_node import PolicyNode
    from ltc_control.nodes.safety_filter_node import SafetyFilterNode
    from ltc_control.nodes.sim_node import SimNode
    from ltc_control.nodes.target_node import TargetNode

    return {
        "policy_node": PolicyNode,
        "safety_filter_node": SafetyFilterNode,
        "sim_node": SimNode,
        "target_node": TargetNode,
    }


def ros_arguments(node: NodeLaunch) -> list[str]:
    """The `--ros-args` a launch system would give this node."""
    args = ["--ros-args", "-r", f"__node:={node.name}"]
    if node.namespace:
        args += ["-r", f"__ns:={node.namespace}"]
    for path in node.parameter_files:
        args += ["--params-file", str(path)]
    for name, value in node.parameters.items():
        args += ["-p", f"{name}:={value or EMPTY_YAML_STRING}"]
    for source, target in node.remaps.items():
        args += ["-r", f"{source}:={target}"]
    return args


@dataclass
class Bringup:
    nodes: list[object]
    skipped: list[NodeLaunch]


def build_nodes(launch_file: Path, arguments: Mapping[str, str], context: object) -> Bringup:
    """Create the launch file's ltc_control nodes in `context` (an initialised rclpy context)."""
    launch = read_launch_file(launch_file, arguments)
    factories = node_factories()
    nodes, skipped = [], []
    for entry in launch.nodes:
        if entry.package != PACKAGE:
            skipped.append(entry)
            continue
        factory = factories[entry.executable]
        nodes.append(
            factory(context=context, cli_args=ros_arguments(entry), use_global_arguments=False)
        )
    return Bringup(nodes, skipped)
