"""The policy loop without ROS: joints by name, real elapsed time, refusals counted, g(q) added."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ltc_control.control.policy_controller import PolicyController
from ltc_control.control.stamps import StampClock, StampVerdict
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime import load_policy
from ltc_control.runtime.signals import (
    JointMatcher,
    ObservationLayout,
    SignalError,
    command_order,
    match_joints,
    policy_input_names,
)

ROBOT = load_robot_description("double_pendulum")


@pytest.fixture
def controller(tmp_path: Path) -> PolicyController:
    from ltc_testing import write_untrained_policy

    policy = load_policy(write_untrained_policy(ROBOT.name, tmp_path / "p.npz"))
    clock = StampClock(nominal_dt=0.01, max_dt=0.1, max_age=0.5)
    return PolicyController(policy, ROBOT.joint_names, clock, PinocchioDynamics(ROBOT).gravity)


def test_joints_are_matched_by_name_not_order() -> None:
    values = match_joints(["joint2", "gripper", "joint1"], [2.0, 9.0, 1.0], ROBOT.joint_names)
    np.testing.assert_array_equal(values, [1.0, 2.0])


def test_a_stream_repeating_its_names_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1 kHz the name lookup is the costly part: one per change of the names' order, whether
    they come as a message's list or a caller's tuple (the evaluator's)."""
    matcher = JointMatcher(ROBOT.joint_names)
    lookups = []
    real = matcher._lookup
    monkeypatch.setattr(matcher, "_lookup", lambda names: lookups.append(names) or real(names))
    for names in (["joint1", "joint2"], ("joint1", "joint2"), ["joint1", "joint2"]):
        np.testing.assert_array_equal(matcher(names, [1.0, 2.0]), [1.0, 2.0])
    np.testing.assert_array_equal(matcher(["joint2", "joint1"], [2.0, 1.0]), [1.0, 2.0])
    assert len(lookups) == 2


@pytest.mark.parametrize(
    ("names", "values", "message"),
    [
        (["joint1"], [1.0], "lacks joints"),
        (["joint1", "joint1", "joint2"], [1.0, 1.0, 2.0], "twice"),
        (["joint1", "joint2"], [1.0], "2 joint names but 1 values"),
        (["joint1", "joint2"], [np.nan, 1.0], "non-finite"),
    ],
)
def test_bad_joint_messages_are_refused(names: list, values: list, message: str) -> None:
    with pytest.raises(SignalError, match=message):
        match_joints(names, values, ROBOT.joint_names)


def test_observation_layout_follows_the_model_input_names() -> None:
    names = policy_input_names(ROBOT.joint_names)
    layout = ObservationLayout(list(reversed(names)), ROBOT.joint_names)
    x = layout.build(np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0, 7.0]))
    np.testing.assert_array_equal(x, [7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    with pytest.raises(SignalError, match="not a known signal"):
        ObservationLayout(["position/elbow"], ROBOT.joint_names)
    with pytest.raises(SignalError, match="effort"):
        command_order(["torque/joint1", "torque/joint2"], ROBOT.joint_names)


def test_steps_use_stamp_differences_and_add_gravity(controller: PolicyController) -> None:
    assert controller.on_joint_state(ROBOT.joint_names, [0.1, 0.2], [0, 0], 1.0, 1.0) is None
    assert controller.rejections["no_target_yet"] == 1
    controller.set_target([0.0, 0.1, 0.2])
    first = controller.on_joint_state(ROBOT.joint_names, [0.1, 0.2], [0, 0], 1.0, 1.0)
    second = controller.on_joint_state(ROBOT.joint_names, [0.1, 0.2], [0, 0], 1.037, 1.04)
    assert first.verdict is StampVerdict.FIRST and first.elapsed == 0.01
    assert second.elapsed == pytest.approx(0.037)
    # The command is the network output (effort over gravity) plus g(q).
    policy, gravity = controller.policy, PinocchioDynamics(ROBOT).gravity(np.array([0.1, 0.2]))
    policy.reset()
    layout = controller.layout
    x = layout.build(np.array([0.1, 0.2]), np.zeros(2), np.array([0.0, 0.1, 0.2]))
    policy.step(x, 0.01)
    expected = policy.step(x, 0.037) + gravity
    np.testing.assert_allclose(second.command, expected, atol=1e-9)


def test_refused_messages_leave_the_state_alone(controller: PolicyController) -> None:
    controller.set_target([0.0, 0.1, 0.2])
    controller.on_joint_state(ROBOT.joint_names, [0.1, 0.2], [0, 0], 1.0, 1.0)
    state = controller.policy.state.copy()
    assert controller.on_joint_state(ROBOT.joint_names, [0.1, 0.2], [0, 0], 0.99, 1.0) is None
    assert controller.on_joint_state(["joint1"], [0.1], [0], 1.01, 1.01) is None
    assert controller.on_joint_state(ROBOT.joint_names, [0.1, 0.2], [0, 0], 5.0, 1.0) is None
    assert not controller.set_target([np.inf, 0.0, 0.0])
    np.testing.assert_array_equal(controller.policy.state, state)
    assert dict(controller.rejections) == {
        "out_of_order": 1,
        "bad_joint_state": 1,
        "future": 1,
        "bad_target": 1,
    }


def test_clock_reset_starts_a_new_episode(controller: PolicyController) -> None:
    controller.set_target([0.0, 0.1, 0.2])
    for i in range(5):
        controller.on_joint_state(
            ROBOT.joint_names, [0.1, 0.2], [0, 0], 10.0 + 0.01 * i, 10.0 + 0.01 * i
        )
    step = controller.on_joint_state(ROBOT.joint_names, [0.1, 0.2], [0, 0], 0.0, 0.0)
    assert step.verdict is StampVerdict.CLOCK_RESET and step.elapsed == 0.01
    fresh = load_policy_copy(controller)
    x = controller.layout.build(np.array([0.1, 0.2]), np.zeros(2), np.array([0.0, 0.1, 0.2]))
    np.testing.assert_allclose(
        step.command - PinocchioDynamics(ROBOT).gravity(np.array([0.1, 0.2])), fresh.step(x, 0.01)
    )


def load_policy_copy(controller: PolicyController) -> object:
    """The same network from a zero state."""
    import copy

    policy = copy.deepcopy(controller.policy)
    policy.reset()
    return policy
