"""The labels a task-space policy learns: the expert's acceleration, with its privileged
feedforward of the target's velocity where the episode recorded it."""

from __future__ import annotations

import numpy as np

from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.sim.expert import OperationalSpaceExpert
from ltc_control.sim.rollouts import RolloutConfig, collect_rollouts
from ltc_control.training.trainer import expert_task_labels

ROBOT = load_robot_description("panda")
DYNAMICS = PinocchioDynamics(ROBOT)


def test_labels_replay_the_expert_with_the_recorded_target_velocity():
    config = RolloutConfig(moving_fraction=1.0, unreachable_fraction=0.0)
    (trajectory,) = collect_rollouts(ROBOT, 1, 4.0, 100.0, 0.0, 7, config)
    velocity = trajectory.info["target_velocity"]
    moving = np.linalg.norm(velocity, axis=1) > 0.0
    assert moving.sum() > 50, "the episode must have a moving target to tell labels apart"
    labels = expert_task_labels(DYNAMICS, trajectory)
    expert = OperationalSpaceExpert(DYNAMICS)
    samples = zip(trajectory.q, trajectory.v, trajectory.target, velocity, strict=True)
    np.testing.assert_allclose(labels, [expert.task_acceleration(*s) for s in samples])
    # A recording without the velocity (rosbag2) gets feedback-only labels: different where
    # the target moves, equal where it holds.
    del trajectory.info["target_velocity"]
    blind = expert_task_labels(DYNAMICS, trajectory)
    assert np.abs(blind - labels)[moving].max() > 1.0  # m/s²: kd * |target velocity|
    np.testing.assert_allclose(blind[~moving], labels[~moving], atol=1e-9)
