"""Launch files as data: `ros2 launch` is not installable here, so every name a launch file uses
is checked against the package: tags and attributes, executables, parameter files and their keys,
packages, and that the topics the nodes use meet once remapped."""

from __future__ import annotations

import dataclasses
import re
import shlex
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from ltc_control.cli.main import build_parser
from ltc_control.errors import ConfigError
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
    launch = read_launch_file(launch_file, {"robot": robot})
    assert all(launch.descriptions[name] for name in launch.arguments), "every arg is described"
    entry_points = cmake_entry_points()
    dependencies = package_dependencies()
    for node in launch.nodes:
        if node.package != "ltc_control":
            assert node.package in dependencies, f"{node.package} is not in package.xml"
            continue
        assert node.executable in entry_points, node.executable
        module = __import__(entry_points[node.executable], fromlist=["NODE_NAME"])
        assert node.name == module.NODE_NAME, "launch name = the node's own name"
        declared = declared_parameters(node.executable)
        assert set(node.parameters) <= declared, set(node.parameters) - declared
        for path in node.parameter_files:
            assert path.is_file(), path
            sections = yaml.safe_load(path.read_text())
            for section in (node.name, "/**"):
                keys = flatten(sections.get(section, {}).get("ros__parameters", {}))
                assert keys <= declared, f"{path}:{section} has undeclared {keys - declared}"
    for include in launch.includes:
        package = include.removeprefix("<share of ").split(">")[0]
        assert package in dependencies, f"included package {package} not in package.xml"


@pytest.mark.parametrize("robot", available_robots())
def test_parameter_files_only_configure_launched_nodes(robot: str) -> None:
    sections = yaml.safe_load((ROOT / "config" / robot / "ros.yaml").read_text())
    launched = {n.name for f in LAUNCH_FILES for n in read_launch_file(f, {"robot": robot}).nodes}
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
