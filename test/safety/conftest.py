"""Shared fixtures for the safety filter tests: one filter per robot, with its shipped config."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyFilter, load_safety_config

ROBOTS = ("panda", "double_pendulum")


@pytest.fixture(scope="session", params=ROBOTS)
def robot_name(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def robot(robot_name):
    return load_robot_description(robot_name)


@pytest.fixture
def safety_filter(robot, robot_name) -> SafetyFilter:
    return SafetyFilter(robot, load_safety_config(robot_name))


@pytest.fixture(scope="session")
def challenging_state():
    """random_challenging_state(robot, rng) -> (q, v, u_nominal)."""
    return random_challenging_state


def random_challenging_state(robot, rng: np.random.Generator):
    """A state and nominal command that tend to make several constraints active at once: joints
    near their limits, fast, and a nominal torque up to 3x the effort limit."""
    limits = robot.limits
    span = limits.upper - limits.lower
    near = rng.random(robot.dof) < 0.5
    edge = np.where(rng.random(robot.dof) < 0.5, limits.lower, limits.upper)
    q = np.where(
        near,
        edge + rng.uniform(-0.05, 0.05, robot.dof) * span,
        rng.uniform(limits.lower, limits.upper),
    )
    v = rng.uniform(-1.0, 1.0, robot.dof) * limits.velocity
    u = rng.uniform(-3.0, 3.0, robot.dof) * limits.effort
    return q, v, u
