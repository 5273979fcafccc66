"""One resource finder: the package's data, example-robot-data with its override, user paths
resolved against their file's folder, and the old config layout refused with the new place."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ltc_control import resources
from ltc_control.errors import ConfigError
from ltc_control.nodes.launch_xml import read_launch_file
from ltc_control.resources import (
    EXAMPLE_ROBOT_DATA_ENV,
    example_robot_data_dir,
    launch_path,
    resolve_path,
    robot_config,
    share_dir,
)
from ltc_control.safety import load_safety_config

PACKAGE_DIR = share_dir() / "ltc_control"


def test_no_module_but_resources_builds_paths_from_its_own_location() -> None:
    offenders = [
        f"{path.relative_to(share_dir())}:{number}"
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if path.name != "resources.py" and "msg" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"__file__|parents\[", line)
    ]
    assert not offenders, offenders


def test_every_robot_has_its_five_files_in_one_folder() -> None:
    assert resources.available_robots() == ["double_pendulum", "panda"]
    for robot in resources.available_robots():
        for kind in resources.ROBOT_FILES:
            assert robot_config(robot, kind).is_file(), (robot, kind)
    assert resources.rollout_plan_path().is_file()


def test_example_robot_data_is_found_in_every_documented_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = example_robot_data_dir()  # this venv: the pip wheel's cmeel.prefix
    assert "cmeel.prefix" in installed.parts and (installed / "robots").is_dir()
    fake = tmp_path / "prefix" / "share" / "example-robot-data"
    (fake / "robots").mkdir(parents=True)
    without_cmeel = [p for p in sys.path if not (Path(p) / "cmeel.prefix").is_dir()]
    monkeypatch.setattr(sys, "path", without_cmeel)
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path / "prefix"))  # a ROS install
    assert example_robot_data_dir() == fake.resolve()
    monkeypatch.setenv("AMENT_PREFIX_PATH", "")
    with pytest.raises(ConfigError, match=EXAMPLE_ROBOT_DATA_ENV):  # nothing: names the override
        example_robot_data_dir()
    monkeypatch.setenv(EXAMPLE_ROBOT_DATA_ENV, str(fake))
    assert example_robot_data_dir() == fake.resolve()
    monkeypatch.setenv(EXAMPLE_ROBOT_DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=f"{EXAMPLE_ROBOT_DATA_ENV}.*no robots/ folder"):
        example_robot_data_dir()


def test_paths_resolve_against_the_folder_of_the_file_that_names_them(tmp_path: Path) -> None:
    assert resolve_path("bags/run1", tmp_path) == tmp_path / "bags" / "run1"
    assert resolve_path("../x.npz", tmp_path / "a") == tmp_path / "x.npz"
    assert resolve_path("/abs/x.npz", tmp_path) == Path("/abs/x.npz")
    assert (
        resolve_path("package://ltc_control/models/m.npz", tmp_path) == share_dir() / "models/m.npz"
    )
    with pytest.raises(ConfigError, match="package://ltc_control/"):
        resolve_path("package://other_pkg/x", tmp_path)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("config/safety/panda.yaml", "config/panda/safety.yaml"),
        ("config/robots/double_pendulum.yaml", "config/double_pendulum/robot.yaml"),
        ("config/panda.yaml", "config/panda/ros.yaml"),
        ("config/gazebo/panda_controllers.yaml", "config/panda/controllers.yaml"),
        ("config/train_panda.yaml", "config/panda/train.yaml"),
        ("config/sim/rollouts.yaml", "config/rollouts.yaml"),
    ],
)
def test_old_config_paths_are_refused_naming_the_new_one(old: str, new: str) -> None:
    assert resources.old_layout_hint(share_dir() / old).endswith(f"now {new})")


def test_old_paths_in_loaders_and_launch_arguments_name_the_new_file() -> None:
    with pytest.raises(ConfigError, match=r"not found \(.*now config/panda/safety\.yaml\)"):
        load_safety_config(share_dir() / "config" / "safety" / "panda.yaml")
    old_params = str(share_dir() / "config" / "panda.yaml")
    with pytest.raises(ConfigError, match=r"not found \(.*now config/panda/ros\.yaml\)"):
        read_launch_file(launch_path("sim.launch.xml"), {"params_file": old_params})
