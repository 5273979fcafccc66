"""Launch files as data: `ros2 launch` is not installable here, so every name a launch file uses
is checked against the package: tags and attributes, executables, parameter files and their keys,
packages, and that the topics the nodes use meet once remapped."""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from ltc_control.cli.main import build_parser
from ltc_control.errors import ConfigError
from ltc_control.nodes.bringup import expand_composed
from ltc_control.nodes.composed import NODE_CHOICES, parameter_value
from ltc_control.nodes.launch_xml import read_launch_file
from ltc_control.resources import share_dir
from ltc_control.robots import available_robots, load_robot_description
from ltc_control.safety import SafetyConfig

ROOT = share_dir()
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.xml"))
NODE_MODULES = {
    "policy_node": "ltc_control.nodes.policy_node",
    "safety_filter_node": "ltc_control.nodes.safety_filter_node",
    "sim_node": "ltc_control.nodes.sim_node",
    "target_node": "ltc_control.nodes.target_node",
}
# Topics other packages provide or consume in each launch file (resolved names).
EXTERNAL = {
    "sim.launch.xml": {"publish": set(), "consume": set()},
    "robot.launch.xml": {
        "publish": {"/joint_states", "/target"},
        "consume": {"/effort_controller/commands"},
    },
    "gazebo.launch.xml": {
        "publish": {"/joint_states", "/clock"},
        "consume": {"/effort_controller/commands"},
    },
}
ALWAYS_EXTERNAL = {"/diagnostics", "/parameter_events", "/rosout", "/clock"}
# The ltc_control nodes each launch file can start (`nodes:=`), and whether it composes them.
SELECTABLE = {
    "sim.launch.xml": ("sim", "target", "filter", "policy"),
    "robot.launch.xml": ("filter", "policy"),
    "gazebo.launch.xml": ("target", "filter", "policy"),
}
COMPOSABLE = {"sim.launch.xml", "robot.launch.xml"}


def layouts(launch_file: Path) -> list[dict[str, str]]:
    """Argument sets selecting each layout a launch file offers."""
    if launch_file.name in COMPOSABLE:
        return [{"composed": "true"}, {"composed": "false"}]
    return [{}]


def cmake_entry_points() -> dict[str, str]:
    text = (ROOT / "CMakeLists.txt").read_text()
    return dict(re.findall(r'"([\w-]+)=([\w.]+)"', text))


def setup_entry_points() -> dict[str, str]:
    scripts = metadata.distribution("ltc_control").entry_points.select(group="console_scripts")
    return {ep.name: ep.value.split(":")[0] for ep in scripts}


def package_dependencies() -> set[str]:
    root = ET.parse(ROOT / "package.xml").getroot()
    return {e.text for e in root if e.tag.endswith("depend")}


def declared_parameters(executable: str) -> set[str]:
    module = __import__(NODE_MODULES[executable], fromlist=["PARAMETERS"])
    names = {spec.name for spec in module.PARAMETERS} | {"use_sim_time"}
    if executable == "safety_filter_node":
        names |= {f"filter.{f.name}" for f in dataclasses.fields(SafetyConfig)}
    return names


def flatten(parameters: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in parameters.items():
        if isinstance(value, dict):
            keys |= flatten(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def test_there_are_launch_files_for_sim_gazebo_and_robot() -> None:
    assert {p.name for p in LAUNCH_FILES} == set(EXTERNAL)


def test_entry_points_agree_between_setup_py_and_cmake() -> None:
    cmake, setup = cmake_entry_points(), setup_entry_points()
    assert cmake == setup
    assert set(NODE_MODULES) <= set(cmake)


@pytest.mark.parametrize("robot", available_robots())
@pytest.mark.parametrize("launch_file", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_names_only_what_exists(launch_file: Path, robot: str) -> None:
    entry_points = cmake_entry_points()
    dependencies = package_dependencies()
    for layout in layouts(launch_file):
        launch = read_launch_file(launch_file, {"robot": robot, **layout})
        assert all(launch.descriptions[name] for name in launch.arguments), "every arg described"
        for entry in launch.nodes:
            if entry.package == "ltc_control":
                assert entry.executable in entry_points, entry.executable
            else:
                assert entry.package in dependencies, f"{entry.package} is not in package.xml"
        for node in expand_composed(launch.nodes):
            if node.package == "ltc_control":
                check_ltc_control_node(node)
        for include in launch.includes:
            package = include.removeprefix("<share of ").split(">")[0]
            assert package in dependencies, f"included package {package} not in package.xml"


def check_ltc_control_node(node) -> None:
    """Name, parameters and parameter files of one of our nodes match its declarations."""
    module = __import__(cmake_entry_points()[node.executable], fromlist=["NODE_NAME"])
    assert node.name == module.NODE_NAME, "launch name = the node's own name"
    declared = declared_parameters(node.executable)
    assert set(node.parameters) <= declared, set(node.parameters) - declared
    for path in node.parameter_files:
        assert path.is_file(), path
        sections = yaml.safe_load(path.read_text())
        for section in (node.name, "/**"):
            keys = flatten(sections.get(section, {}).get("ros__parameters", {}))
            assert keys <= declared, f"{path}:{section} has undeclared {keys - declared}"


@pytest.mark.parametrize("robot", available_robots())
@pytest.mark.parametrize(
    "launch_file", [f for f in LAUNCH_FILES if f.name in COMPOSABLE], ids=lambda p: p.name
)
def test_composed_layout_starts_the_same_nodes_with_the_same_settings(
    launch_file: Path, robot: str
) -> None:
    """composed:=true (one composed_nodes process, the default) and composed:=false (one
    process per node) give every node the same parameter files, parameters and remaps."""
    layouts = {}
    for composed in ("true", "false"):
        launch = read_launch_file(launch_file, {"robot": robot, "composed": composed})
        executables = {entry.executable for entry in launch.nodes}
        assert (executables == {"composed_nodes"}) == (composed == "true")
        layouts[composed] = {
            node.name: (
                node.executable,
                node.parameter_files,
                {k: parameter_value(v) for k, v in node.parameters.items()},
                node.remaps,
            )
            for node in expand_composed(launch.nodes)
        }
    assert layouts["true"] == layouts["false"]
    assert len(layouts["true"]) == len(SELECTABLE[launch_file.name])


@pytest.mark.parametrize("launch_file", LAUNCH_FILES, ids=lambda p: p.name)
def test_nodes_argument_starts_only_the_named_part_of_the_graph(launch_file: Path) -> None:
    node_names = {choice: NODE_CHOICES[choice][1] for choice in NODE_CHOICES}
    choices = SELECTABLE[launch_file.name]
    default = read_launch_file(launch_file)
    everything = {n.name for n in expand_composed(default.nodes) if n.package == "ltc_control"}
    assert everything == {node_names[c] for c in choices}, "defaults start the whole graph"
    selections = [[c] for c in choices] + [[a, b] for a in choices for b in choices if a < b]
    for layout in layouts(launch_file):
        for selection in selections:
            arguments = {"nodes": ",".join(selection), **layout}
            launch = read_launch_file(launch_file, arguments)
            started = expand_composed(launch.nodes)
            assert {n.name for n in started} == {node_names[c] for c in selection}, arguments
            assert not launch.includes, "nothing of the simulator's side starts"


def test_gazebo_side_starts_alone_with_nodes_sim() -> None:
    launch = read_launch_file(ROOT / "launch" / "gazebo.launch.xml", {"nodes": "sim"})
    assert {n.package for n in launch.nodes} == {
        "ros_gz_bridge",
        "robot_state_publisher",
        "ros_gz_sim",
        "controller_manager",
    }
    assert len(launch.includes) == 1


@pytest.mark.parametrize("nodes", ["polcy", "", "sim;filter"])
def test_a_misspelt_node_selection_is_refused_when_composed(nodes: str) -> None:
    launch = read_launch_file(ROOT / "launch" / "sim.launch.xml", {"nodes": nodes})
    with pytest.raises(ConfigError, match="choose among sim, target, filter, policy"):
        expand_composed(launch.nodes)


@pytest.mark.parametrize("robot", available_robots())
def test_parameter_files_only_configure_launched_nodes(robot: str) -> None:
    sections = yaml.safe_load((ROOT / "config" / robot / "ros.yaml").read_text())
    launched = {
        n.name
        for f in LAUNCH_FILES
        for n in expand_composed(read_launch_file(f, {"robot": robot}).nodes)
    }
    assert set(sections) - {"/**"} <= launched


@pytest.mark.parametrize("robot", available_robots())
def test_gazebo_urdf_command_and_controllers_match_the_robot(robot: str) -> None:
    launch = read_launch_file(ROOT / "launch" / "gazebo.launch.xml", {"robot": robot})
    text = (ROOT / "launch" / "gazebo.launch.xml").read_text()
    command = re.search(r"\$\(command '([^']*)'\)", text).group(1)
    words = shlex.split(
        command.replace("$(var robot)", robot).replace("$(var controllers_file)", "c.yaml")
    )
    assert words[:4] == ["ros2", "run", "ltc_control", "ltc-control"]
    args = build_parser().parse_args(words[4:])
    assert args.robot == robot
    controllers = ROOT / "config" / robot / "controllers.yaml"
    assert controllers.is_file() and "GZ_SIM_RESOURCE_PATH" in launch.environment
    joints = yaml.safe_load(controllers.read_text())["effort_controller"]["ros__parameters"][
        "joints"
    ]
    assert tuple(joints) == load_robot_description(robot).joint_names


def test_bad_launch_xml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.launch.xml"
    bad.write_text('<launch><node pkg="ltc_control" exec="policy_node" nmae="policy"/></launch>')
    with pytest.raises(ConfigError, match="does not take"):
        read_launch_file(bad)
    bad.write_text(
        '<launch><arg name="a" default="x" description="d"/><let name="b" value="$(var c)"/></launch>'
    )
    with pytest.raises(ConfigError, match=r"\$\(var c\)"):
        read_launch_file(bad)


@pytest.mark.ros
@pytest.mark.parametrize("launch_file", LAUNCH_FILES, ids=lambda p: p.name)
def test_topics_meet_once_remapped(
    launch_file: Path, ros_context, untrained_panda_policy: Path
) -> None:
    from ltc_control.nodes.bringup import build_nodes

    bringup = build_nodes(
        launch_file, {"robot": "panda", "model_file": str(untrained_panda_policy)}, ros_context
    )
    published, subscribed = set(), set()
    for node in bringup.nodes:
        published |= {p.topic_name for p in node.publishers}
        subscribed |= {s.topic_name for s in node.subscriptions}
    external = EXTERNAL[launch_file.name]
    unfed = subscribed - published - external["publish"] - ALWAYS_EXTERNAL
    assert not unfed, f"subscriptions nobody publishes: {unfed}"
    assert external["consume"] <= published, "the controller's commands topic is fed"
    assert "/effort_controller/commands" in published
    for node in bringup.nodes:
        node.destroy_node()


@pytest.mark.ros
@pytest.mark.parametrize("composed", ["true", "false"])
def test_in_process_bringup_builds_only_the_selected_nodes(
    ros_context, untrained_panda_policy: Path, composed: str
) -> None:
    from ltc_control.nodes.bringup import build_nodes

    arguments = {"nodes": "sim,filter", "composed": composed}
    bringup = build_nodes(ROOT / "launch" / "sim.launch.xml", arguments, ros_context)
    assert sorted(node.get_name() for node in bringup.nodes) == ["safety_filter", "sim"]
    for node in bringup.nodes:
        node.destroy_node()


@pytest.mark.parametrize(
    ("launch_file", "arguments", "message"),
    [
        ("sim.launch.xml", "nodes:=polcy", "choose among sim, target, filter, policy"),
        ("sim.launch.xml", "nodes:=polcy composed:=false", "choose among sim, target, filter"),
        (
            "robot.launch.xml",
            "nodes:=sim",
            "nodes: 'sim' names ['sim']; choose among filter, policy",
        ),
        ("robot.launch.xml", "nodes:=sim composed:=false", "nothing to start"),
    ],
)
def test_bringup_refuses_a_selection_that_starts_nothing_in_one_line(
    launch_file: str, arguments: str, message: str
) -> None:
    executable = Path(sys.prefix) / "bin" / "ltc-control"
    result = subprocess.run(
        [str(executable), "bringup", launch_file, *arguments.split()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("ltc-control bringup: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
