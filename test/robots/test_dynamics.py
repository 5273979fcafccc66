"""The two dynamics backends (pinocchio from URDF, MuJoCo from the sim's model) agree."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import MujocoDynamics, PinocchioDynamics


@pytest.mark.parametrize("name", ["panda", "double_pendulum"])
def test_backends_agree_on_random_states(name: str) -> None:
    robot = load_robot_description(name)
    pinocchio_model, mujoco_model = PinocchioDynamics(robot), MujocoDynamics(robot)
    rng = np.random.default_rng(7)
    for _ in range(100):
        q = rng.uniform(robot.limits.lower, robot.limits.upper)
        v = rng.uniform(-1.0, 1.0, robot.dof) * robot.limits.velocity
        a, b = pinocchio_model.terms(q, v), mujoco_model.terms(q, v)
        for field in ("mass_matrix", "bias", "gravity", "ee_position", "ee_jacobian"):
            np.testing.assert_allclose(
                getattr(a, field), getattr(b, field), atol=1e-8, err_msg=field
            )
        np.testing.assert_allclose(a.ee_jacobian_dot_v, b.ee_jacobian_dot_v, atol=1e-8)


def test_jacobian_and_its_derivative_match_finite_differences() -> None:
    robot = load_robot_description("panda")
    dynamics = PinocchioDynamics(robot)
    rng = np.random.default_rng(3)
    q = rng.uniform(robot.limits.lower, robot.limits.upper)
    v = rng.uniform(-1.0, 1.0, robot.dof)
    h = 1e-6
    now, later = dynamics.terms(q, v), dynamics.terms(q + h * v, v)
    # p' = J v and (J v)' = J' v along the motion.
    np.testing.assert_allclose(
        (later.ee_position - now.ee_position) / h, now.ee_jacobian @ v, atol=1e-5
    )
    np.testing.assert_allclose(
        (later.ee_jacobian @ v - now.ee_jacobian @ v) / h, now.ee_jacobian_dot_v, atol=1e-4
    )


def test_mass_matrix_is_symmetric_positive_definite() -> None:
    robot = load_robot_description("panda")
    terms = PinocchioDynamics(robot).terms(robot.home, np.zeros(robot.dof))
    np.testing.assert_allclose(terms.mass_matrix, terms.mass_matrix.T)
    assert np.linalg.eigvalsh(terms.mass_matrix).min() > 0
