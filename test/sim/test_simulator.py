"""ArmSimulator: clamping, contact sensing, mass perturbation, timing, noise, input errors."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.errors import LtcControlError
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.sim import ArmSimulator, SimConfig, SimulatorError, random_mass_scale, sample_times


@pytest.fixture(scope="module", params=["panda", "double_pendulum"])
def robot(request):
    return load_robot_description(request.param)


def _hold_gravity(sim: ArmSimulator, dynamics: PinocchioDynamics, seconds: float) -> None:
    """Nominal gravity compensation: holds the nominal arm still, not a perturbed one."""
    for _ in range(round(seconds / sim.config.physics_dt)):
        state = sim.true_state()
        sim.apply(dynamics.terms(state.q, state.v).gravity)
        sim.advance(sim.config.physics_dt)


def _push(sim, dynamics, target, stiffness, seconds):
    """Task-space spring toward `target` plus gravity compensation and joint damping."""
    for _ in range(round(seconds / sim.config.physics_dt)):
        state = sim.true_state()
        terms = dynamics.terms(state.q, state.v)
        force = stiffness * (target - terms.ee_position)
        home_pull = 3.0 * (sim.robot.home - state.q)
        sim.apply(terms.gravity + terms.ee_jacobian.T @ force - 2.0 * state.v + home_pull)
        sim.advance(sim.config.physics_dt)


def test_torque_is_clamped_to_the_effort_limit(robot):
    sim = ArmSimulator(robot)
    command = 3.0 * robot.limits.effort * np.where(np.arange(robot.dof) % 2, -1.0, 1.0)
    returned = sim.apply(command)
    np.testing.assert_allclose(returned, np.sign(command) * robot.limits.effort)
    sim.advance(0.01)
    np.testing.assert_allclose(sim.measure().tau_applied, returned)
    inside = 0.5 * robot.limits.effort
    np.testing.assert_allclose(sim.apply(inside), inside)


def test_no_contact_force_in_free_space(robot):
    sim = ArmSimulator(robot)
    _hold_gravity(sim, PinocchioDynamics(robot), 0.2)
    state = sim.measure()
    np.testing.assert_array_equal(state.contact_force, np.zeros(3))
    assert state.contact_normal_force == 0.0


def test_pressing_into_the_table_gives_an_upward_contact_force():
    robot = load_robot_description("panda")
    sim = ArmSimulator(robot)
    _push(sim, PinocchioDynamics(robot), np.array([0.5, 0.0, 0.1]), 300.0, 2.0)
    state = sim.measure()
    assert state.ee_position[2] == pytest.approx(robot.table.height + 0.02, abs=0.005)
    assert state.contact_normal_force > 10.0
    assert state.contact_force[2] == pytest.approx(state.contact_normal_force, rel=0.05)


def test_contact_force_balances_a_known_push():
    """At rest on the table, the table pushes back with exactly the commanded end-effector force."""
    robot = load_robot_description("double_pendulum")
    sim, dynamics = ArmSimulator(robot), PinocchioDynamics(robot)
    push = np.array([0.0, 0.0, -2.0])
    for _ in range(3000):
        state = sim.true_state()
        terms = dynamics.terms(state.q, state.v)
        sim.apply(terms.gravity + terms.ee_jacobian.T @ push - 10.0 * terms.mass_matrix @ state.v)
        sim.advance(0.001)
    state = sim.true_state()
    assert np.linalg.norm(state.v) < 1e-3
    np.testing.assert_allclose(state.contact_force, -push, atol=0.05)
    assert state.contact_normal_force == pytest.approx(2.0, abs=0.05)


def test_mass_perturbation_changes_the_dynamics(robot):
    dynamics = PinocchioDynamics(robot)
    nominal = ArmSimulator(robot)
    heavier = ArmSimulator(robot, SimConfig(mass_scale=1.2))
    _hold_gravity(nominal, dynamics, 0.3)
    _hold_gravity(heavier, dynamics, 0.3)
    assert np.abs(nominal.true_state().q - robot.home).max() < 1e-6
    assert np.abs(heavier.true_state().q - robot.home).max() > 1e-3
    base = nominal.model.body_mass[1:]
    np.testing.assert_allclose(heavier.model.body_mass[1:], 1.2 * base)


def test_per_body_mass_scale_is_seeded_and_validated(robot):
    sim = ArmSimulator(robot)
    scale = random_mass_scale(len(sim.body_names), 0.1, seed=3)
    assert np.all(np.abs(scale - 1.0) <= 0.1)
    np.testing.assert_array_equal(scale, random_mass_scale(len(sim.body_names), 0.1, seed=3))
    perturbed = ArmSimulator(robot, SimConfig(mass_scale=scale))
    np.testing.assert_allclose(perturbed.model.body_mass[1:], sim.model.body_mass[1:] * scale)
    with pytest.raises(SimulatorError, match="one value per body"):
        ArmSimulator(robot, SimConfig(mass_scale=np.ones(len(sim.body_names) + 1)))
    with pytest.raises(SimulatorError):
        SimConfig(mass_scale=-1.0)


def test_advance_takes_whole_steps_without_drift():
    sim = ArmSimulator(load_robot_description("double_pendulum"))
    steps = [sim.advance(0.0015) for _ in range(10)]
    assert sum(steps) == 15
    assert set(steps) == {1, 2}
    assert sim.time == pytest.approx(0.015, abs=1e-12)
    assert sim.advance(0.0) == 0


def test_noise_only_in_measure_and_reproducible():
    robot = load_robot_description("panda")
    config = SimConfig(q_noise_std=0.01, v_noise_std=0.1, seed=7)
    sims = [ArmSimulator(robot, config) for _ in range(2)]
    samples = [np.array([s.measure().q for _ in range(400)]) for s in sims]
    np.testing.assert_array_equal(samples[0], samples[1])
    assert np.std(samples[0] - robot.home) == pytest.approx(0.01, rel=0.15)
    np.testing.assert_array_equal(sims[0].true_state().q, robot.home)


def test_reset_sets_the_state_and_time(robot):
    sim = ArmSimulator(robot)
    sim.apply(robot.limits.effort)
    sim.advance(0.05)
    q = robot.home + 0.1
    sim.reset(q, np.full(robot.dof, 0.2))
    state = sim.true_state()
    assert state.time == 0.0
    np.testing.assert_allclose(state.q, q)
    np.testing.assert_allclose(state.v, 0.2)
    np.testing.assert_array_equal(state.tau_applied, np.zeros(robot.dof))


def test_bad_inputs_raise_typed_errors(robot):
    sim = ArmSimulator(robot)
    bad_torques = [np.full(robot.dof, np.nan), np.zeros(robot.dof + 1), "x"]
    for torque in bad_torques:
        with pytest.raises(SimulatorError):
            sim.apply(torque)
    with pytest.raises(LtcControlError):
        sim.advance(-0.1)
    with pytest.raises(SimulatorError):
        sim.reset(q=np.zeros(robot.dof + 2))
    with pytest.raises(SimulatorError):
        SimConfig(physics_dt=0.0)


def test_sample_times_respect_rate_and_jitter():
    times = sample_times(2.0, 100.0, jitter=0.2, seed=1)
    gaps = np.diff(times)
    assert times[0] == 0.0 and times[-1] <= 2.0
    assert np.all(gaps >= 0.008 - 1e-12) and np.all(gaps <= 0.012 + 1e-12)
    assert gaps.std() > 1e-4
    assert len(times) == pytest.approx(201, abs=10)
    np.testing.assert_array_equal(times, sample_times(2.0, 100.0, jitter=0.2, seed=1))
    steady = np.diff(sample_times(1.0, 50.0))
    np.testing.assert_allclose(steady, 0.02)
    with pytest.raises(SimulatorError):
        sample_times(1.0, 100.0, jitter=1.5)
