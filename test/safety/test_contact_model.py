"""The force bound's contact model against MuJoCo: a Panda end effector at rest on the table,
pressed by a torque command; MuJoCo's contact force is (minus) the modelled F = Λ J M⁻¹ (u - h)."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.robots import load_robot_description
from ltc_control.safety import EndEffectorForceBound, SafetyConfig, SafetyFilter
from ltc_control.sim import ArmSimulator


@pytest.mark.parametrize("push", [(0.0, 0.0, -20.0), (5.0, 0.0, -30.0), (0.0, 6.0, -25.0)])
def test_modelled_pressing_force_matches_mujoco_contact(push) -> None:
    robot = load_robot_description("panda")
    model = SafetyFilter(robot, SafetyConfig()).model
    radius = robot.end_effector.contact_radius
    target = np.array([0.55, 0.0, robot.table.height + radius - 1e-4])  # 0.1 mm into the top
    q = robot.home.copy()
    for _ in range(50):  # Newton steps on the end-effector position
        terms = model.terms(q, np.zeros(robot.dof))
        q += np.linalg.pinv(terms.ee_jacobian) @ (target - terms.ee_position)
    terms = model.terms(q, np.zeros(robot.dof))
    u = model.gravity(q) + terms.ee_jacobian.T @ np.array(push)
    bound = EndEffectorForceBound(50.0)
    acceleration = terms.inverse_mass @ u + terms.free_acceleration
    modelled = bound.operational_mass(terms) @ terms.ee_jacobian @ acceleration
    np.testing.assert_allclose(modelled, push, atol=0.1)  # u was built to press with `push`
    sim = ArmSimulator(robot)
    sim.reset(q, np.zeros(robot.dof))
    sim.apply(u)
    sim.advance(0.003)
    measured = sim.true_state().contact_force  # the table's force on the end effector
    # MuJoCo's contacts are soft (solref/solimp): within 30 % of the rigid model.
    assert np.linalg.norm(measured + modelled) <= 0.3 * np.linalg.norm(modelled)
