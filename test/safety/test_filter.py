"""SafetyFilter behaviour: pass-through, fallbacks (counted, never silent), tighten(), config."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ltc_control.errors import ConfigError
from ltc_control.robots.dynamics import MujocoDynamics, PinocchioDynamics
from ltc_control.safety import (
    SafetyConfig,
    SafetyFilter,
    SafetyInputError,
    load_safety_config,
)
from ltc_control.safety.constraints import EndEffectorForceBound, polytope_circumradius
from ltc_control.safety.model import PinocchioFilterModel, filter_model_for
from ltc_control.safety.qp import QPSolution


def test_safe_nominal_command_passes_unchanged(robot, safety_filter) -> None:
    gravity = safety_filter.model.gravity(robot.home)
    result = safety_filter.filter(robot.home, np.zeros(robot.dof), gravity)
    assert result.mode == "filtered" and result.reason == ""
    np.testing.assert_allclose(result.command, gravity, atol=1e-9)
    assert result.active_constraints == ()
    assert np.all(result.margins >= 0) and np.all(result.slack == 0)
    assert safety_filter.counters["filtered"] == 1


def test_unsafe_command_is_changed_and_reported(robot, safety_filter) -> None:
    q = robot.limits.upper - 0.3  # inside the position limits...
    v = np.full(robot.dof, 0.5)  # rad/s, ...moving toward them
    result = safety_filter.filter(q, v, 3 * robot.limits.effort)
    assert result.mode == "filtered"
    assert "joint_position" in result.active_constraints
    assert np.all(np.abs(result.command) <= robot.limits.effort)
    assert np.linalg.norm(result.command - 3 * robot.limits.effort) > 1.0


def test_infeasible_hard_constraints_give_counted_braking_fallback(robot, safety_filter) -> None:
    # At the position limit, moving out at the velocity limit: no torque in the box can bring
    # the joint back within one period, as the hard position HOCBF demands.
    q = robot.limits.upper - safety_filter.config.position_margin
    v = robot.limits.velocity - safety_filter.config.velocity_margin
    result = safety_filter.filter(q, v, np.zeros(robot.dof))
    assert result.mode == "fallback"
    assert result.reason.startswith("infeasible")
    np.testing.assert_allclose(result.command, safety_filter.braking_command(q, v))
    assert np.all(np.abs(result.command) <= robot.limits.effort)
    assert safety_filter.counters["infeasible"] == 1
    assert safety_filter.counters["fallback"] == 1


class _WrongSolver:
    """A solver that claims optimality for a command outside the torque box."""

    def solve(self, qp):
        x = np.full(len(qp.f), 10.0)
        return QPSolution("optimal", x, np.zeros(len(qp.lower) + len(qp.b)))

    def reset(self) -> None:
        pass


def test_uncertified_solver_answer_is_a_counted_solver_failure(robot, safety_filter) -> None:
    safety_filter.solver = _WrongSolver()
    result = safety_filter.filter(robot.home, np.zeros(robot.dof), np.zeros(robot.dof))
    assert result.mode == "fallback"
    assert result.reason.startswith("solver_failure")
    assert safety_filter.counters["solver_failure"] == 1
    assert np.all(np.abs(result.command) <= robot.limits.effort)


def test_braking_command_brakes_and_survives_non_finite_state(robot, safety_filter) -> None:
    q, v = robot.home, 0.5 * robot.limits.velocity
    command = safety_filter.braking_command(q, v)
    gravity = safety_filter.model.gravity(q)
    assert np.all((command - gravity) * v <= 0)  # damping opposes the motion
    nan_state = safety_filter.braking_command(np.full(robot.dof, np.nan), v)
    assert np.all(np.isfinite(nan_state))
    assert np.all(np.abs(nan_state) <= robot.limits.effort)


def test_wrong_shapes_raise_typed_errors(robot, safety_filter) -> None:
    with pytest.raises(SafetyInputError, match="shape"):
        safety_filter.filter(np.zeros(robot.dof + 1), np.zeros(robot.dof), np.zeros(robot.dof))
    with pytest.raises(SafetyInputError, match="numbers"):
        safety_filter.filter(["a"] * robot.dof, np.zeros(robot.dof), np.zeros(robot.dof))


def test_tighten_accepts_tighter_limits_and_refuses_looser(robot, safety_filter) -> None:
    safety_filter.tighten(torque_limit_scale=0.5, position_margin=0.1, force_max=1.0)
    result = safety_filter.filter(robot.home, np.zeros(robot.dof), 5 * robot.limits.effort)
    assert np.all(np.abs(result.command) <= 0.5 * robot.limits.effort + 1e-12)
    safety_filter.tighten(torque_limit_scale=1.0)  # back to the description's limits: allowed
    looser = [
        {"torque_limit_scale": 1.01},
        {"position_margin": -0.01},
        {"velocity_margin": -0.1},
        {"force_max": safety_filter.config.force_max * 100},
        {"workspace_box_upper": [5.0, 5.0, 5.0]},
        {"position_gain_1": 1.0},  # not a limit
    ]
    for change in looser:
        with pytest.raises(ConfigError):
            safety_filter.tighten(**change)
    assert safety_filter.config.torque_limit_scale == 1.0
    assert safety_filter.config.position_margin == 0.1


def test_config_round_trips_and_rejects_bad_keys(robot_name) -> None:
    config = load_safety_config(robot_name)
    assert SafetyConfig.from_dict(config.to_dict()) == config
    assert config.robot == robot_name
    for bad, key in [
        ({"no_such_key": 1}, "no_such_key"),
        ({"velocity_gain": "fast"}, "velocity_gain"),
        ({"velocity_gain": 2000.0}, "velocity_gain"),  # gain * dt >= 1
        ({"position_soft": 1}, "position_soft"),
        ({"torque_limit_scale": 0.0}, "torque_limit_scale"),
        ({"workspace_box_lower": [0, 0]}, "workspace_box_lower"),
        ({"force_max": float("nan")}, "force_max"),
    ]:
        with pytest.raises(ConfigError, match=key):
            SafetyConfig.from_dict({**config.to_dict(), **bad})


def test_missing_config_file_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_safety_config(tmp_path / "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("velocity_gain: [1, 2")
    with pytest.raises(ConfigError, match="malformed"):
        load_safety_config(broken)


def test_lean_model_matches_the_dynamics_backends(robot) -> None:
    lean = PinocchioFilterModel(robot)
    via_mujoco = filter_model_for(robot, MujocoDynamics(robot))
    reference = PinocchioDynamics(robot)
    rng = np.random.default_rng(5)
    for _ in range(20):
        q = rng.uniform(robot.limits.lower, robot.limits.upper)
        v = rng.uniform(-1, 1, robot.dof) * robot.limits.velocity
        terms, expected, other = lean.terms(q, v), reference.terms(q, v), via_mujoco.terms(q, v)
        np.testing.assert_allclose(
            terms.inverse_mass @ expected.mass_matrix, np.eye(robot.dof), atol=1e-9
        )
        bias = expected.bias + lean.joint_damping * v
        np.testing.assert_allclose(
            terms.free_acceleration,
            -np.linalg.solve(expected.mass_matrix, bias),
            rtol=1e-9,
            atol=1e-9,
        )
        np.testing.assert_allclose(terms.ee_jacobian, expected.ee_jacobian, atol=1e-12)
        np.testing.assert_allclose(terms.ee_jacobian_dot_v, expected.ee_jacobian_dot_v, atol=1e-12)
        np.testing.assert_allclose(
            other.free_acceleration, terms.free_acceleration, rtol=1e-6, atol=1e-6
        )


def test_force_polytope_is_inside_the_ball() -> None:
    bound = EndEffectorForceBound(50.0)
    radius = polytope_circumradius(bound.directions)
    assert bound.facet_distance * radius == pytest.approx(50.0)
    rng = np.random.default_rng(0)
    # Random points of the polytope (rejection sampling in the cube) all have ||F|| <= 50 N.
    points = rng.uniform(-60, 60, (20000, 3))
    inside = points[np.all(points @ bound.directions.T <= bound.facet_distance, axis=1)]
    assert len(inside) > 1000
    assert np.max(np.linalg.norm(inside, axis=1)) <= 50.0 + 1e-9


def test_a_hard_workspace_config_builds_and_filters(robot, robot_name) -> None:
    config = dataclasses.replace(
        load_safety_config(robot_name), workspace_soft=False, force_soft=False
    )
    safety_filter = SafetyFilter(robot, config)
    result = safety_filter.filter(robot.home, np.zeros(robot.dof), np.zeros(robot.dof))
    assert result.mode in ("filtered", "fallback")
    assert np.all(result.slack == 0)


def test_a_new_robot_needs_only_a_urdf_and_a_description_yaml(tmp_path) -> None:
    """A robot the project does not ship (UR5 from example-robot-data) works with the default
    safety config: description YAML + URDF, nothing else."""
    from ltc_control.robots import load_robot_description

    description = tmp_path / "ur5.yaml"
    description.write_text(
        "name: ur5\n"
        "urdf: {package: example-robot-data, file: robots/ur_description/urdf/ur5_joint_limited_robot.urdf}\n"
        "joints: [shoulder_pan_joint, shoulder_lift_joint, elbow_joint, wrist_1_joint, wrist_2_joint, wrist_3_joint]\n"
        "end_effector: {parent: tool0, offset: [0, 0, 0], contact_radius: 0.02}\n"
        "home: [0.0, -1.57, 1.57, -1.57, -1.57, 0.0]\n"
        "table: {height: -0.3, center: [0.5, 0.0], size: [0.5, 0.8]}\n"
        # The UR5 URDF's <transmission> blocks repeat <joint name=...> without limits, which
        # robots.description currently reads as "no limit" (reported to the lead): restate them.
        "limits:\n"
        "  lower: [-3.14, -3.14, -3.14, -3.14, -3.14, -3.14]\n"
        "  upper: [3.14, 3.14, 3.14, 3.14, 3.14, 3.14]\n"
        "  velocity: [3.15, 3.15, 3.15, 3.2, 3.2, 3.2]\n"
        "  effort: [150, 150, 150, 28, 28, 28]\n"
    )
    robot = load_robot_description(description)
    safety_filter = SafetyFilter(robot, SafetyConfig(robot="ur5"))
    result = safety_filter.filter(robot.home, np.zeros(robot.dof), 10 * robot.limits.effort)
    assert result.mode == "filtered"
    assert np.all(np.abs(result.command) <= robot.limits.effort)
    assert result.active_constraints  # the 10x-effort nominal had to be changed


def test_custom_constraint_list_composes(robot) -> None:
    """The constraint classes compose: a filter with only a velocity CBF and a force bound."""
    from ltc_control.safety import EndEffectorForceBound, JointVelocityCBF

    constraints = [
        JointVelocityCBF(robot.limits.velocity * 0.5, gain=50.0),
        EndEffectorForceBound(10.0, soft=True, penalty=100.0),
    ]
    safety_filter = SafetyFilter(robot, SafetyConfig(), constraints=constraints)
    assert safety_filter.constraint_names == ("torque_box", "joint_velocity", "end_effector_force")
    v = robot.limits.velocity * 0.5  # at the halved limit: no further acceleration allowed
    result = safety_filter.filter(robot.home, v, 3 * robot.limits.effort)
    terms = safety_filter.model.terms(robot.home, v)
    acceleration = terms.inverse_mass @ result.command + terms.free_acceleration
    assert np.all(acceleration <= 1e-6)
    with pytest.raises(ConfigError):
        safety_filter.tighten(position_margin=0.1)


def test_overflowing_finite_input_is_flagged_not_propagated(robot, safety_filter) -> None:
    huge = np.full(robot.dof, 1e200)
    result = safety_filter.filter(robot.home, np.zeros(robot.dof), huge)
    assert result.mode == "fallback" and result.reason.startswith("invalid_input")
    assert np.all(np.isfinite(result.command))
    assert np.all(np.abs(result.command) <= robot.limits.effort)
