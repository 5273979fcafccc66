"""Robot descriptions: limits come from the URDF, YAML only tightens, errors name the culprit."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest
import yaml

from ltc_control.robots import RobotDescriptionError, available_robots, load_robot_description
from ltc_control.robots.mujoco_model import build_mujoco_model, joint_addresses


def test_shipped_robots() -> None:
    assert {"panda", "double_pendulum"} <= set(available_robots())


def test_panda_limits_are_the_urdfs() -> None:
    panda = load_robot_description("panda")
    assert panda.dof == 7
    assert panda.urdf_path.is_file() and "example-robot-data" in str(panda.urdf_path)
    # Effort limits as the installed URDF states them (87 N·m on joints 1-4, 12 on 5-7).
    np.testing.assert_array_equal(panda.limits.effort, panda.urdf_limits.effort)
    assert panda.limits.effort[0] > panda.limits.effort[-1] > 0
    assert np.all(panda.limits.lower < panda.limits.upper)


def _write_variant(tmp_path: Path, name: str, **changes) -> Path:
    data = yaml.safe_load(Path(load_robot_description(name).source).read_text())
    data.update(changes)
    path = tmp_path / f"{name}_variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_yaml_may_tighten_limits(tmp_path: Path) -> None:
    panda = load_robot_description("panda")
    tighter = (panda.urdf_limits.effort * 0.5).tolist()
    robot = load_robot_description(_write_variant(tmp_path, "panda", limits={"effort": tighter}))
    np.testing.assert_allclose(robot.limits.effort, tighter)


def test_yaml_may_not_loosen_limits(tmp_path: Path) -> None:
    panda = load_robot_description("panda")
    looser = (panda.urdf_limits.velocity * 2).tolist()
    path = _write_variant(tmp_path, "panda", limits={"velocity": looser})
    with pytest.raises(RobotDescriptionError, match=r"loosens.*panda_joint1"):
        load_robot_description(path)


def test_unspecified_urdf_limits_must_be_given(tmp_path: Path) -> None:
    # The double pendulum's URDF writes 0 for every limit: the YAML has to supply them.
    path = _write_variant(tmp_path, "double_pendulum", limits={})
    with pytest.raises(RobotDescriptionError, match="no lower limit"):
        load_robot_description(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"joints": ["panda_joint1", "no_such_joint"]}, "no_such_joint"),
        ({"home": [0.0, 1.0]}, "'home' must be 7"),
        ({"urdf": {"path": "missing.urdf"}}, "not found"),
        ({"limits": {"stiffness": [1.0] * 7}}, "unknown limit kinds"),
    ],
)
def test_bad_descriptions_name_the_problem(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(RobotDescriptionError, match=message):
        load_robot_description(_write_variant(tmp_path, "panda", **changes))


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(RobotDescriptionError, match="not found"):
        load_robot_description("no_such_robot")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(RobotDescriptionError, match="malformed YAML"):
        load_robot_description(bad)


@pytest.mark.parametrize("name", ["panda", "double_pendulum"])
def test_mujoco_model_matches_description(name: str) -> None:
    robot = load_robot_description(name)
    model = build_mujoco_model(robot)
    qpos_adr, _ = joint_addresses(model, robot)
    assert model.nu == robot.dof and len(qpos_adr) == robot.dof
    np.testing.assert_allclose(model.actuator_ctrlrange[:, 1], robot.limits.effort)
    assert model.site("end_effector").id >= 0
    # The table top is at the described height.
    table = model.geom("table")
    assert table.pos[2] + table.size[2] == pytest.approx(robot.table.height)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    assert np.all(np.isfinite(data.qfrc_bias))


def test_a_user_adds_a_robot_with_a_yaml_file(tmp_path: Path) -> None:
    """UR5 from example-robot-data, limits from its URDF (whose <transmission> blocks also
    contain <joint> elements, which must not be read as joints)."""
    import pinocchio as pin

    joints = ["shoulder_pan_joint", "shoulder_lift_joint", "elbow_joint"]
    joints += ["wrist_1_joint", "wrist_2_joint", "wrist_3_joint"]
    description = {
        "name": "ur5",
        "urdf": {
            "package": "example-robot-data",
            "file": "robots/ur_description/urdf/ur5_robot.urdf",
        },
        "joints": joints,
        "end_effector": {"parent": "tool0"},
        "home": [0.0, -1.57, 1.57, 0.0, 0.0, 0.0],
        "table": {"height": 0.0, "center": [0.5, 0.0], "size": [0.5, 0.5]},
    }
    path = tmp_path / "ur5.yaml"
    path.write_text(yaml.safe_dump(description))
    robot = load_robot_description(path)
    model = pin.buildModelFromUrdf(str(robot.urdf_path))
    np.testing.assert_allclose(robot.limits.effort, model.effortLimit)
    np.testing.assert_allclose(robot.limits.velocity, model.velocityLimit)
    np.testing.assert_allclose(robot.limits.lower, model.lowerPositionLimit)
