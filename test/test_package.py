"""The package manifest is valid and declares every ROS interface package the code imports."""

from __future__ import annotations

import re

from catkin_pkg.package import parse_package

from ltc_control.resources import share_dir

ROOT = share_dir()


def test_package_xml_is_valid_format_3() -> None:
    package = parse_package(str(ROOT / "package.xml"))
    package.validate()
    assert package.package_format == 3 and package.name == "ltc_control"
    assert any(e.tagname == "build_type" and e.content == "ament_cmake" for e in package.exports)


def test_every_imported_ros_package_is_declared() -> None:
    package = parse_package(str(ROOT / "package.xml"))
    declared = {
        d.name for d in package.exec_depends + package.build_depends + package.build_export_depends
    }
    imported = set()
    for path in (ROOT / "ltc_control").rglob("*.py"):
        if "msg" in path.parts:
            continue
        imported |= set(re.findall(r"^\s*from (\w+)\.(?:msg|srv) import", path.read_text(), re.M))
    imported -= {"ltc_control"}
    assert imported, "the nodes import ROS messages"
    assert imported <= declared, f"not in package.xml: {sorted(imported - declared)}"
    if any("import rclpy" in p.read_text() for p in (ROOT / "ltc_control").rglob("*.py")):
        assert "rclpy" in declared
