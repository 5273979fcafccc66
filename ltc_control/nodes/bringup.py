"""In-process bringup: the ltc_control nodes of a launch file, in one process, over real topics.

For machines without the ROS 2 launch system (no `ros2 launch`): reads the same launch XML and
parameter files, builds each ltc_control node with its own `--ros-args` (parameter files,
parameters, remaps), and spins them all on one EventsExecutor (manual composition). A
`composed_nodes` entry stands for the nodes it composes, with what reaches each of them. Nodes of
other packages (Gazebo, controller_manager, ...) cannot run here and are reported, not faked.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ltc_control.errors import ConfigError, did_you_mean
from ltc_control.nodes import composed
from ltc_control.nodes.launch_xml import NodeLaunch, read_launch_file
from ltc_control.nodes.spin import ros_errors_as_config_errors
from ltc_control.resources import PACKAGE


def node_factories() -> dict[str, Callable[..., object]]:
    """Executable name -> node class, for every node executable the package installs."""
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


def ros_arguments(node: NodeLaunch, workdir: Path) -> list[str]:
    """The `--ros-args` a launch system would give this node.

    Like launch_ros, a node's inline <param>s go into a parameter file of their own, after the
    node's other files: node-specific file entries beat `-p` overrides in rcl, so `-p` would
    lose to the shared parameter file.
    """
    args = ["--ros-args"]
    if node.name:  # composed_nodes has none: a global __node would rename all its nodes
        args += ["-r", f"__node:={node.name}"]
    if node.namespace:
        args += ["-r", f"__ns:={node.namespace}"]
    files = list(node.parameter_files)
    if node.parameters:
        inline = {key: composed.parameter_value(value) for key, value in node.parameters.items()}
        path = workdir / f"{node.name}_inline_parameters.yaml"
        path.write_text(yaml.safe_dump({node.name: {"ros__parameters": inline}}))
        files.append(path)
    for path in files:
        args += ["--params-file", str(path)]
    for source, target in node.remaps.items():
        args += ["-r", f"{source}:={target}"]
    return args


def expand_composed(entries: list[NodeLaunch]) -> list[NodeLaunch]:
    """Launch entries with each composed_nodes entry replaced by the nodes it starts."""
    result = []
    for entry in entries:
        is_composed = entry.package == PACKAGE and entry.executable == composed.EXECUTABLE
        result.extend(composed.members(entry) if is_composed else [entry])
    return result


@dataclass
class Bringup:
    nodes: list[object]
    skipped: list[NodeLaunch]


def build_nodes(
    launch_file: Path, arguments: Mapping[str, str], context: object, workdir: Path | None = None
) -> Bringup:
    """Create the launch file's ltc_control nodes in `context` (an initialised rclpy context).

    `workdir` receives the generated inline-parameter files (default: a fresh temporary dir).
    """
    launch = read_launch_file(launch_file, arguments)
    if "nodes" in arguments:  # a misspelt name would start nothing, silently
        composed.selected_nodes(arguments["nodes"])
    workdir = Path(tempfile.mkdtemp(prefix="ltc_bringup_")) if workdir is None else workdir
    factories = node_factories()
    nodes, skipped = [], []
    for entry in expand_composed(launch.nodes):
        if entry.package != PACKAGE:
            skipped.append(entry)
            continue
        factory = factories.get(entry.executable)
        if factory is None:
            raise ConfigError(
                f"{launch_file}: {PACKAGE} has no executable {entry.executable!r}"
                f"{did_you_mean(entry.executable, factories)}"
            )
        with ros_errors_as_config_errors(entry.name):
            nodes.append(
                factory(
                    context=context,
                    cli_args=ros_arguments(entry, workdir),
                    use_global_arguments=False,
                )
            )
    if not nodes and not skipped:
        raise ConfigError(f"{launch_file.name}: nothing to start with {dict(arguments)}")
    return Bringup(nodes, skipped)
