"""Closed-loop evaluation: paired, deterministic episodes; metrics that tell controllers apart."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.evaluation import Condition, EvaluationConfig, Evaluator, summarize
from ltc_control.robots import load_robot_description
from ltc_control.runtime import Normalization
from ltc_control.runtime.signals import policy_input_names, policy_output_names
from ltc_control.training.baselines import BaselinePolicy

ROBOT = load_robot_description("double_pendulum")


def constant_policy(effort_over_gravity: np.ndarray) -> BaselinePolicy:
    """A numpy MLP whose output is a constant torque on top of gravity compensation."""
    n_in, n_out = 2 * ROBOT.dof + 3, ROBOT.dof
    params = {
        "net.0.weight": np.zeros((n_out, n_in)),
        "net.0.bias": np.asarray(effort_over_gravity, float),
    }
    metadata = {
        "input_names": policy_input_names(ROBOT.joint_names),
        "output_names": policy_output_names(ROBOT.joint_names),
        "input_units": ["1"] * n_in,
        "output_units": ["N*m"] * n_out,
    }
    return BaselinePolicy("mlp", params, Normalization.identity(n_in, n_out), metadata)


@pytest.fixture(scope="module")
def evaluator():
    return Evaluator(ROBOT, EvaluationConfig(episodes=2, duration_s=2.0, seed=5))


def test_episodes_are_deterministic_and_paired(evaluator):
    expert = evaluator.expert_controller()
    first = evaluator.evaluate(lambda c: expert)
    second = evaluator.evaluate(lambda c: expert)
    assert [r.as_dict() for r in first] == [r.as_dict() for r in second]
    assert first[0].seed != first[1].seed
    assert all(np.isfinite(r.tracking_rmse) and r.steps == 201 for r in first)


def test_gravity_compensation_alone_tracks_worse_than_the_expert(evaluator):
    expert = summarize(evaluator.evaluate(lambda c: evaluator.expert_controller()))
    idle_policy = constant_policy(np.zeros(ROBOT.dof))
    idle = summarize(evaluator.evaluate(lambda c: evaluator.learned_controller(idle_policy, c)))
    assert idle["tracking_rmse_mean"] > 1.5 * expert["tracking_rmse_mean"]
    assert idle["effort_mean"] < expert["effort_mean"]


def test_policy_steps_at_the_sensor_rate(evaluator):
    policy = constant_policy(np.zeros(ROBOT.dof))
    controller = evaluator.learned_controller(policy, Condition("50Hz", 50.0))
    result, record = evaluator.run_episode(controller, 7, Condition("50Hz", 50.0))
    assert result.steps == 101
    assert np.allclose(np.diff(record.t), 0.02)
    jittered = Condition("jitter", 100.0, 0.3)
    result, record = evaluator.run_episode(
        evaluator.learned_controller(policy, jittered), 7, jittered
    )
    intervals = np.diff(record.t)
    assert intervals.min() < 0.008 and intervals.max() > 0.012


def test_violations_are_counted_without_the_filter():
    unfiltered = Evaluator(ROBOT, EvaluationConfig(episodes=1, duration_s=2.0, use_filter=False))
    push = constant_policy(ROBOT.limits.effort)  # full torque on every joint: hits the end stops
    result, _ = unfiltered.run_episode(unfiltered.learned_controller(push, Condition()), 3)
    assert result.violations > 0
    assert result.violation_kinds["position"] + result.violation_kinds["velocity"] > 0
    assert result.interventions == 0


def test_expert_labels_fill_the_record(evaluator):
    policy = constant_policy(np.zeros(ROBOT.dof))
    controller = evaluator.learned_controller(policy, Condition())
    _, trajectory = evaluator.run_episode(controller, 11, label=evaluator.expert.torque)
    assert len(trajectory) == 201
    velocity = trajectory.info["target_velocity"]
    assert velocity.shape == (201, 3)
    replay = evaluator.expert
    replay.reset()
    expected = [
        replay.torque(*sample)
        for sample in zip(trajectory.q, trajectory.v, trajectory.target, velocity, strict=True)
    ]
    np.testing.assert_allclose(trajectory.tau, expected)


def test_the_policy_never_sees_the_targets_velocity(tmp_path):
    """Privileged: the same policy commands the same torque whatever velocity it is passed."""
    from ltc_testing import write_untrained_policy

    from ltc_control.runtime import load_policy

    evaluator = Evaluator(ROBOT, EvaluationConfig(episodes=1, duration_s=1.0))
    policy = load_policy(write_untrained_policy(ROBOT.name, tmp_path / "p.npz"))
    commands = []
    for velocity in (None, np.array([0.3, -0.2, 0.5])):
        controller = evaluator.learned_controller(policy, Condition())
        controller.reset()
        q, v, target = ROBOT.home, np.zeros(ROBOT.dof), np.array([0.0, 0.3, 0.5])
        commands.append([controller.command(0.01 * k, q, v, target, velocity) for k in range(5)])
    np.testing.assert_array_equal(commands[0], commands[1])


def test_torque_loop_filter_runs_every_control_period():
    """In torque-loop mode the filter sees every 1 ms period of the held policy command."""
    config = EvaluationConfig(episodes=1, duration_s=0.5, filter_at_sensor_rate=False)
    loop = Evaluator(ROBOT, config)
    policy = constant_policy(np.zeros(ROBOT.dof))
    result, _ = loop.run_episode(loop.learned_controller(policy, Condition()), 3)
    assert result.steps == 51
    assert result.filter_steps == pytest.approx(510, abs=2)
    per_sample = Evaluator(ROBOT, EvaluationConfig(episodes=1, duration_s=0.5))
    result, _ = per_sample.run_episode(per_sample.learned_controller(policy, Condition()), 3)
    assert result.filter_steps == result.steps == 51


def test_a_barriernet_policy_gains_reach_the_torque_loop_filter():
    """The evaluator's filter gets a BarrierNet model's gains with each command, as the filter
    node does (FilterLoop): every torque-loop period is filtered with them."""
    config = EvaluationConfig(episodes=1, duration_s=0.5, filter_at_sensor_rate=False)
    evaluator = Evaluator(ROBOT, config)
    safety_filter = evaluator.safety_filter(None)
    names = [f"cbf_gain/{name}" for name in safety_filter.gain_names]
    n_in, n_out = 2 * ROBOT.dof + 3, ROBOT.dof + len(names)
    raw = np.full(len(names), np.log(3.0))  # 1.5 x the configured gains
    params = {
        "net.0.weight": np.zeros((n_out, n_in)),
        "net.0.bias": np.concatenate((np.zeros(ROBOT.dof), raw)),
    }
    metadata = {
        "input_names": policy_input_names(ROBOT.joint_names),
        "output_names": policy_output_names(ROBOT.joint_names) + names,
        "input_units": ["1"] * n_in,
        "output_units": ["N*m"] * ROBOT.dof + ["1"] * len(names),
    }
    policy = BaselinePolicy("mlp", params, Normalization.identity(n_in, n_out), metadata)
    controller = evaluator.learned_controller(policy, Condition())
    result, _ = evaluator.run_episode(controller, 3)
    np.testing.assert_allclose(controller.gains[1], 1.5 * safety_filter.configured_gains)
    counters = safety_filter.counters
    assert counters["learned_gains"] == result.filter_steps
    assert counters["gains_replaced"] == 0
    assert result.violations == 0


def test_the_tracking_task_scores_one_moving_segment_after_a_hold():
    from ltc_control.evaluation.errors import EvaluationConfigError

    tracking = Evaluator(ROBOT, EvaluationConfig(episodes=1, duration_s=3.0, task="tracking"))
    result, _ = tracking.run_episode(tracking.expert_controller(), 0)
    hold, moving = result.segments
    assert (hold["category"], hold["duration"], moving["category"]) == ("hold", 1.5, "moving")
    assert moving["caught_s"] == pytest.approx(0.0)  # held there: tracking from the start
    assert moving["caught_rmse_m"] < 0.02  # the expert, told the velocity, keeps up
    with pytest.raises(EvaluationConfigError, match="task must be one of"):
        EvaluationConfig(task="chasing")
