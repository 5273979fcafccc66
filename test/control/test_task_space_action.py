"""A task-space action (ee_acceleration/x|y|z) goes through the expert's own law to joint torque,
inside the policy's controller: the filter still receives joint torque."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.control.policy_controller import PolicyController
from ltc_control.control.stamps import StampClock
from ltc_control.evaluation import EvaluationConfig, Evaluator, summarize
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime.signals import (
    EE_ACCELERATION,
    SignalError,
    policy_input_names,
    policy_output_names,
)
from ltc_control.sim.expert import OperationalSpaceExpert

ROBOT = load_robot_description("panda")
DYNAMICS = PinocchioDynamics(ROBOT)


class ExpertAccelerationPolicy:
    """A stand-in network whose ee_acceleration output is the expert's task acceleration."""

    def __init__(self) -> None:
        self.input_names = policy_input_names(ROBOT.joint_names)
        self.output_names = policy_output_names(ROBOT.joint_names, EE_ACCELERATION)
        self.expert = OperationalSpaceExpert(DYNAMICS)

    def reset(self) -> None:
        self.expert.reset()

    def step(self, x: np.ndarray, dt: float) -> np.ndarray:
        n = ROBOT.dof
        return self.expert.task_acceleration(x[:n], x[n : 2 * n], x[2 * n :])


def test_the_action_is_turned_into_joint_torque_by_the_expert_law():
    expert = OperationalSpaceExpert(DYNAMICS)
    policy = ExpertAccelerationPolicy()
    controller = PolicyController(
        policy,
        ROBOT.joint_names,
        StampClock(0.01, 0.1),
        DYNAMICS.gravity,
        task_law=OperationalSpaceExpert(DYNAMICS).task_torque,
    )
    target = np.array([0.4, 0.3, 0.5])
    controller.set_target(target)
    q, v = ROBOT.home + 0.1, np.full(ROBOT.dof, 0.2)
    step = controller.on_joint_state(list(ROBOT.joint_names), q, v, stamp=1.0, now=1.0)
    assert step.command.shape == (ROBOT.dof,)
    np.testing.assert_allclose(step.command, expert.torque(q, v, target), atol=1e-9)


def test_a_task_space_model_needs_the_law():
    with pytest.raises(SignalError, match="task law"):
        PolicyController(ExpertAccelerationPolicy(), ROBOT.joint_names, StampClock(0.01, 0.1))


def test_copying_the_expert_action_reaches_as_the_expert_does():
    evaluator = Evaluator(ROBOT, EvaluationConfig(episodes=3, duration_s=3.0, seed=11))
    expert = summarize(evaluator.evaluate(lambda c: evaluator.expert_controller()))
    copy = ExpertAccelerationPolicy()
    learned = summarize(evaluator.evaluate(lambda c: evaluator.learned_controller(copy, c)))
    assert learned["holds"] == expert["holds"] >= 3
    assert learned["reach5"] == expert["reach5"]
    assert learned["final_error_median_m"] == pytest.approx(
        expert["final_error_median_m"], abs=1e-3
    )
