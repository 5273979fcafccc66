"""Position IK: answers inside the shrunken limits that reach the point; none for a point out of
reach."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.robots.inverse_kinematics import solve_position

MARGIN = 0.23  # rad, the expert's goal margin


@pytest.fixture(scope="module", params=["panda", "double_pendulum"])
def dynamics(request):
    return PinocchioDynamics(load_robot_description(request.param))


def test_points_of_in_margin_poses_are_solved_inside_the_margin(dynamics):
    robot, rng = dynamics.robot, np.random.default_rng(0)
    zero = np.zeros(robot.dof)
    solved = 0
    for _ in range(10):
        pose = rng.uniform(robot.limits.lower + MARGIN, robot.limits.upper - MARGIN)
        point = dynamics.terms(pose, zero).ee_position
        q = solve_position(dynamics, point, robot.home, MARGIN)
        if q is None:
            continue  # a local solver may miss: counted below
        solved += 1
        assert np.linalg.norm(dynamics.terms(q, zero).ee_position - point) < 0.01
        assert np.all(q >= robot.limits.lower + MARGIN - 1e-12)
        assert np.all(q <= robot.limits.upper - MARGIN + 1e-12)
    assert solved >= 8


def test_a_point_out_of_reach_has_no_answer(dynamics):
    robot = dynamics.robot
    far = np.array([0.0, 3.0, 3.0])
    assert solve_position(dynamics, far, robot.home, MARGIN, iterations=100) is None
