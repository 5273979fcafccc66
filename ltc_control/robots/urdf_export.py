"""A robot's URDF for ros2_control: the description's URDF plus what the controller stack needs.

Adds a `world` link with the base fixed to it, and a <ros2_control> block declaring an effort
command interface and position/velocity/effort state interfaces for each controlled joint, with
the hardware plugin of the target (gz_ros2_control for Gazebo, or a user-named plugin for a
real robot). For Gazebo it also adds the gz_ros2_control system plugin pointing at the
controllers YAML. The description's limits are written into
the joints' <limit> tags. Locked joints are not exported to ros2_control (they stay in the URDF, unused).
Mesh URIs stay `package://example-robot-data/...`: set GZ_SIM_RESOURCE_PATH to the share dir
that contains example-robot-data (gazebo.launch.xml does).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ltc_control.robots.description import RobotDescription

GAZEBO_HARDWARE = "gz_ros2_control/GazeboSimSystem"


def ros2_control_urdf(
    robot: RobotDescription,
    hardware_plugin: str = GAZEBO_HARDWARE,
    controllers_file: Path | None = None,
) -> str:
    tree = ET.parse(robot.urdf_path)
    root = tree.getroot()
    _fix_to_world(root)
    write_description_limits(root, robot)
    system = ET.SubElement(root, "ros2_control", name=f"{robot.name}_system", type="system")
    hardware = ET.SubElement(system, "hardware")
    ET.SubElement(hardware, "plugin").text = hardware_plugin
    for name, effort, home in zip(robot.joint_names, robot.limits.effort, robot.home, strict=True):
        joint = ET.SubElement(system, "joint", name=name)
        command = ET.SubElement(joint, "command_interface", name="effort")
        ET.SubElement(command, "param", name="min").text = f"{-effort}"
        ET.SubElement(command, "param", name="max").text = f"{effort}"
        position = ET.SubElement(joint, "state_interface", name="position")
        ET.SubElement(position, "param", name="initial_value").text = f"{home}"
        ET.SubElement(joint, "state_interface", name="velocity")
        ET.SubElement(joint, "state_interface", name="effort")
    if hardware_plugin == GAZEBO_HARDWARE:
        gazebo = ET.SubElement(root, "gazebo")
        plugin = ET.SubElement(
            gazebo,
            "plugin",
            filename="gz_ros2_control-system",
            name="gz_ros2_control::GazeboSimROS2ControlPlugin",
        )
        if controllers_file is not None:
            ET.SubElement(plugin, "parameters").text = str(controllers_file)
    ET.indent(tree)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def write_description_limits(root: ET.Element, robot: RobotDescription) -> None:
    """The description's limits are authoritative (a URDF may leave them 0 = unspecified)."""
    limits = robot.limits
    for joint in root.findall("joint"):  # not the <joint>s inside <transmission> blocks
        if joint.get("name") not in robot.joint_names:
            continue
        i = robot.joint_names.index(joint.get("name"))
        limit = joint.find("limit")
        if limit is None:
            limit = ET.SubElement(joint, "limit")
        for kind in ("lower", "upper", "velocity", "effort"):
            limit.set(kind, repr(float(getattr(limits, kind)[i])))


def _fix_to_world(root: ET.Element) -> None:
    children = {joint.find("child").get("link") for joint in root.findall("joint")}
    base = next(link.get("name") for link in root.iter("link") if link.get("name") not in children)
    ET.SubElement(root, "link", name="world")
    joint = ET.SubElement(root, "joint", name="world_fixed", type="fixed")
    ET.SubElement(joint, "parent", link="world")
    ET.SubElement(joint, "child", link=base)
