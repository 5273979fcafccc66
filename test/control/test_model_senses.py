"""Senses from the robot model: named end-effector inputs computed in one place (ObservationLayout)
for the policy node, the evaluator, training and explain."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime.signals import (
    ObservationLayout,
    SignalError,
    policy_input_names,
    signal_unit,
)
from ltc_control.sim import collect_rollouts
from ltc_control.training.config import train_config_from_dict
from ltc_control.training.dataset import episode_from_trajectory, signal_names
from ltc_control.training.errors import TrainingConfigError

ROBOT = load_robot_description("panda")
DYNAMICS = PinocchioDynamics(ROBOT)
SENSES = ("ee_position", "ee_error", "ee_velocity")


def test_senses_are_the_end_effector_state_in_the_world_frame():
    names = policy_input_names(ROBOT.joint_names, SENSES)
    assert names[-9:] == [f"{s}/{a}" for s in SENSES for a in "xyz"]
    layout = ObservationLayout(names, ROBOT.joint_names, DYNAMICS.end_effector)
    rng = np.random.default_rng(0)
    q = rng.uniform(ROBOT.limits.lower, ROBOT.limits.upper)
    v = rng.uniform(-1.0, 1.0, ROBOT.dof)
    target = np.array([0.4, -0.2, 0.5])
    x = layout.build(q, v, target)
    terms = DYNAMICS.terms(q, v)
    np.testing.assert_allclose(x[: 2 * ROBOT.dof], np.concatenate([q, v]))
    np.testing.assert_allclose(x[-9:-6], terms.ee_position, atol=1e-12)
    np.testing.assert_allclose(x[-6:-3], target - terms.ee_position, atol=1e-12)
    np.testing.assert_allclose(x[-3:], terms.ee_jacobian @ v, atol=1e-12)
    assert [signal_unit(n) for n in names[-9:]] == ["m"] * 6 + ["m/s"] * 3


def test_a_model_with_senses_needs_the_robot_model_and_old_layouts_do_not():
    names = policy_input_names(ROBOT.joint_names, ["ee_error"])
    with pytest.raises(SignalError, match="robot model"):
        ObservationLayout(names, ROBOT.joint_names)
    plain = ObservationLayout(policy_input_names(ROBOT.joint_names), ROBOT.joint_names)
    assert plain.senses == [] and plain.size == 2 * ROBOT.dof + 3
    with pytest.raises(SignalError, match="unknown senses"):
        policy_input_names(ROBOT.joint_names, ["ee_jerk"])


def test_training_builds_the_same_inputs_as_the_deployed_layout():
    [trajectory] = collect_rollouts(ROBOT, 1, 0.2, 100.0, seed=3)
    names = signal_names(ROBOT.joint_names, ["ee_error", "ee_velocity"])[0]
    layout = ObservationLayout(names, ROBOT.joint_names, DYNAMICS.end_effector)
    episode = episode_from_trajectory(trajectory, DYNAMICS.gravity, 0.01, layout=layout)
    i = len(trajectory) // 2
    expected = layout.build(trajectory.q[i], trajectory.v[i], trajectory.target[i])
    np.testing.assert_array_equal(episode.inputs[i], expected)
    ee = DYNAMICS.terms(trajectory.q[i], trajectory.v[i]).ee_position
    np.testing.assert_allclose(episode.inputs[i, -6:-3], trajectory.target[i] - ee, atol=1e-12)


def test_training_config_names_its_senses():
    base = {"robot": "panda", "models": [{"name": "m", "kind": "mlp", "output": "m.npz"}]}
    config = train_config_from_dict(base | {"data": {"senses": ["ee_error"]}})
    assert config.data.senses == ("ee_error",)
    with pytest.raises(TrainingConfigError, match=r"data\.senses"):
        train_config_from_dict(base | {"data": {"senses": ["ee_jerk"]}})


def test_a_task_space_action_is_named_and_checked_in_the_training_config():
    names = signal_names(ROBOT.joint_names, ["ee_error"], "ee_acceleration")
    assert names[2] == ["ee_acceleration/x", "ee_acceleration/y", "ee_acceleration/z"]
    assert names[3] == ["m/s^2"] * 3
    base = {"robot": "panda"}
    ncp3 = {"name": "m", "kind": "cfc", "units": 19, "wiring": "ncp", "output": "m.npz"}
    data = {"senses": ["ee_error"], "action": "ee_acceleration"}
    config = train_config_from_dict(base | {"data": data, "models": [ncp3]})
    assert config.data.action == "ee_acceleration"
    with pytest.raises(TrainingConfigError, match=r"data\.action"):
        train_config_from_dict(base | {"data": {"action": "jerk"}, "models": [ncp3]})


def test_the_task_error_sense_makes_the_experts_action_a_function_of_what_the_model_sees():
    """Why `task_error` exists (measured on the Panda's training rollouts: within 5 cm of the
    target, target - end effector explains none of the label's variance, R² -0.12): the expert
    acts on an error blended with its inverse-kinematics goal pose, which the network cannot see.
    With the sense, the label is kd (sat(kp / kd task_error) - ee_velocity) exactly, and the
    evaluation's per-episode layout computes the same values as the deployed controller."""
    from ltc_control.control.stamps import StampClock
    from ltc_control.evaluation.closed_loop import deployed_controller, observation_layout
    from ltc_control.sim.expert import OperationalSpaceExpert

    [trajectory] = collect_rollouts(ROBOT, 1, 1.0, 100.0, seed=4)
    names = policy_input_names(ROBOT.joint_names, ["task_error", "ee_velocity"])
    layout = observation_layout(names, "panda")
    with pytest.raises(SignalError, match="robot model"):
        ObservationLayout(names, ROBOT.joint_names, DYNAMICS.end_effector)
    expert = OperationalSpaceExpert(DYNAMICS)
    gains = expert.gains
    outputs = [f"ee_acceleration/{axis}" for axis in "xyz"]
    policy = SimpleNamespace(input_names=names, output_names=outputs)  # names are all it needs
    controller, _ = deployed_controller(policy, ROBOT, DYNAMICS, StampClock(0.01, 0.1))
    far_from_cartesian = 0
    for q, v, target in zip(trajectory.q, trajectory.v, trajectory.target, strict=True):
        x = layout.build(q, v, target)
        np.testing.assert_allclose(x, controller.layout.build(q, v, target), atol=1e-12)
        task_error, ee_velocity = x[-6:-3], x[-3:]
        desired = gains.task_stiffness / gains.task_damping * task_error
        desired *= min(1.0, gains.max_speed / max(np.linalg.norm(desired), 1e-12))
        label = expert.task_acceleration(q, v, target)
        np.testing.assert_allclose(label, gains.task_damping * (desired - ee_velocity), atol=1e-9)
        cartesian = target - DYNAMICS.terms(q, v).ee_position
        far_from_cartesian += np.linalg.norm(task_error - cartesian) > 0.01
    assert far_from_cartesian > 0  # the goal pose's path: not the Cartesian error
