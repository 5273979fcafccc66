"""The BarrierNet loss of a task-space policy sees the torque the deployed law makes of its action."""

from __future__ import annotations

import numpy as np
import torch

from ltc_control.evaluation import Evaluator
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.sim.expert import OperationalSpaceExpert
from ltc_control.sim.rollouts import RolloutConfig, collect_rollouts
from ltc_control.training.barrier import BarrierNetHead
from ltc_control.training.dataset import Normalizer
from ltc_control.training.trainer import BarrierLoss

ROBOT = load_robot_description("double_pendulum")
DYNAMICS = PinocchioDynamics(ROBOT)


def _loss() -> BarrierLoss:
    head = BarrierNetHead(Evaluator(ROBOT).safety_filter(100.0))
    unit = Normalizer(np.zeros(1), np.ones(1), np.zeros(3), np.ones(3))
    return BarrierLoss(head, unit, task_action=True)


def test_the_loss_nominal_is_the_deployed_task_law():
    """tau = clip(A a + b) from the precomputed terms equals OperationalSpaceExpert.task_torque
    (what PolicyController applies) for arbitrary actions, large ones clipped alike."""
    (trajectory,) = collect_rollouts(ROBOT, 1, 1.0, 100.0, 0.0, 5, RolloutConfig())
    replay, deployed = OperationalSpaceExpert(DYNAMICS), OperationalSpaceExpert(DYNAMICS)
    rng = np.random.default_rng(0)
    loss = _loss()
    for q, v, target in list(zip(trajectory.q, trajectory.v, trajectory.target, strict=True))[::10]:
        terms = np.concatenate([np.ravel(p) for p in replay.task_affine(q, v, target)])
        action = rng.normal(0.0, 50.0, 3)
        got = loss._torque(torch.tensor(action), torch.tensor(terms))
        expected = deployed.task_torque(q, v, action, target)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-9)


def test_gains_get_gradient_only_through_the_filter_and_the_action_through_both():
    """Near a position limit the filter cuts the nominal: the command error then depends on
    the gains; the action's squared error still teaches the reach."""
    loss = _loss()
    head = loss.head
    q = ROBOT.limits.upper - np.array([0.01, 0.5])
    v = np.array([0.5 * ROBOT.limits.velocity[0], 0.0])
    replay = OperationalSpaceExpert(DYNAMICS)
    target = DYNAMICS.terms(ROBOT.home, np.zeros(2)).ee_position
    terms = np.concatenate([np.ravel(p) for p in replay.task_affine(q, v, target)])
    extra = torch.tensor(np.concatenate((terms, head.sample_rows(q, v))))[None, None]
    x = torch.tensor(np.concatenate((q, v)))[None, None]
    push = torch.tensor([[[30.0, 30.0, 0.0]]])
    raw_gains = torch.zeros(1, 1, len(head.output_names))
    prediction = torch.cat((push, raw_gains), dim=-1).requires_grad_(True)
    y = torch.zeros(1, 1, 3)
    value = loss(prediction, y, x.to(torch.float32), extra.to(torch.float32))
    value.backward()
    assert torch.isfinite(value)
    assert torch.any(prediction.grad[..., 3:] != 0)  # the gains matter where the filter acts
    assert torch.all(prediction.grad[..., :2] > 0)  # pushing harder than the expert costs
