"""`composed_nodes`: several ltc_control nodes in one process on one EventsExecutor.

Manual composition, as `ltc-control bringup` does it, behind an installed executable that a
launch file starts (rclpy has no component container). A robot's torque loop crosses three
topics per cycle; in one process Fast DDS delivers them in-process (shared notes: p99 ~0.8 ms
at 1 kHz, against >= 1.2 ms with the nodes in separate processes).

    composed_nodes sim,target,filter,policy policy:model_file:=/m.npz \\
        --ros-args --params-file panda.yaml -r safety_filter:commands:=/effort_controller/commands

Arguments: the nodes (comma-separated, among NODE_CHOICES, or among those `--among a,b` lists:
the nodes a launch file offers), then per-node parameters
`node:parameter:=value` (YAML values, the rcl `-p node:name:=value` syntax, but they beat the
parameter file, as a launch file's <param> does). The ROS arguments are the process's: the
parameter file's per-node sections and node-prefixed remaps (`-r node:from:=to`) reach only
their node. The nodes are created in NODE_CHOICES order whatever the order given: the filter's
joint-state subscription before the policy's (see AfterQueuedEvents).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace

import yaml

from ltc_control.errors import ConfigError
from ltc_control.nodes.launch_xml import NodeLaunch

EXECUTABLE = "composed_nodes"
# nodes:= name -> (executable, node name), in creation order.
NODE_CHOICES: dict[str, tuple[str, str]] = {
    "sim": ("sim_node", "sim"),
    "target": ("target_node", "target"),
    "filter": ("safety_filter_node", "safety_filter"),
    "policy": ("policy_node", "policy"),
}


def selected_nodes(text: str, among: Sequence[str] = tuple(NODE_CHOICES)) -> list[str]:
    """`sim,filter` -> ['sim', 'filter'] in creation order; names not `among` are an error."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(among))
    if unknown or not names:
        raise ConfigError(
            f"nodes: {text!r} names {unknown or 'nothing'}; choose among {', '.join(among)}"
        )
    return [name for name in NODE_CHOICES if name in names]


def parameter_value(text: str) -> object:
    """Launch parameter values are YAML scalars (`true`, `100.0`, `panda`); '' stays a string."""
    return yaml.safe_load(text) if text else ""


def parse_arguments(arguments: Sequence[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The executable's own arguments -> (nodes in creation order, node name -> parameter name
    -> value as written)."""
    arguments = list(arguments)
    among = list(NODE_CHOICES)
    if "--among" in arguments[:-1]:  # the nodes a launch file offers (robot: no simulator)
        at = arguments.index("--among")
        among = selected_nodes(arguments[at + 1])
        del arguments[at : at + 2]
    if not arguments:
        raise ConfigError(f"{EXECUTABLE}: which nodes? e.g. {','.join(among)}")
    nodes = selected_nodes(arguments[0], among)
    parameters: dict[str, dict[str, str]] = {}
    known = {node_name for _, node_name in NODE_CHOICES.values()}
    for item in arguments[1:]:
        target, separator, value = item.partition(":=")
        node_name, colon, name = target.partition(":")
        if not (separator and colon and name) or node_name not in known:
            raise ConfigError(
                f"{EXECUTABLE}: expected node:parameter:=value with a node among "
                f"{sorted(known)}, got {item!r}"
            )
        parameters.setdefault(node_name, {})[name] = value
    return nodes, parameters


def members(entry: NodeLaunch) -> list[NodeLaunch]:
    """A launch file's composed_nodes entry as the nodes it starts, each with the parameter
    files, parameters and remaps that reach it (what the launch tests check and the in-process
    bringup builds)."""
    nodes, parameters = parse_arguments(entry.arguments)
    result = []
    for choice in nodes:
        executable, node_name = NODE_CHOICES[choice]
        remaps = {}
        for source, target in entry.remaps.items():
            prefix, colon, topic = source.rpartition(":")
            if not colon:
                remaps[source] = target
            elif prefix == node_name:
                remaps[topic] = target
        result.append(
            replace(
                entry,
                executable=executable,
                name=node_name,
                parameters=parameters.get(node_name, {}),
                remaps=remaps,
                arguments=[],
            )
        )
    return result


def build(context: object, arguments: Sequence[str]) -> list[object]:
    """The nodes `arguments` name, in `context`, on the process's ROS arguments."""
    from rclpy.parameter import Parameter

    from ltc_control.nodes.bringup import node_factories

    nodes, parameters = parse_arguments(arguments)
    factories = node_factories()
    result = []
    for choice in nodes:
        executable, node_name = NODE_CHOICES[choice]
        given = parameters.get(node_name, {})
        overrides = [Parameter(key, value=parameter_value(text)) for key, text in given.items()]
        result.append(factories[executable](context=context, parameter_overrides=overrides))
    return result


def main(args: list[str] | None = None) -> int:
    from ltc_control.nodes.spin import serve

    argv = sys.argv if args is None else [EXECUTABLE, *args]
    # Only the ROS arguments go to rcl: it would read node:parameter:=value as remap rules.
    split = argv.index("--ros-args") if "--ros-args" in argv else len(argv)
    own, ros = argv[1:split], argv[split:]
    try:
        parse_arguments(own)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    return serve(lambda context: build(context, own), args=[argv[0], *ros])
