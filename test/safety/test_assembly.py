"""The compiled step (_kernel.c) computes what the numpy reference computes, and refuses misuse."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.safety import SafetyFilter, load_safety_config
from ltc_control.safety.assembly import (
    CERTIFIED,
    HARD_ROW_VIOLATED,
    NON_FINITE,
    OUTSIDE_BOX,
    CompiledAssembly,
    NumpyAssembly,
    assembly_for,
)
from ltc_control.safety.constraints import JointVelocityCBF
from ltc_control.safety.model import FilterTerms

STATES = 300


def both(safety_filter: SafetyFilter) -> tuple[CompiledAssembly, NumpyAssembly]:
    args = (
        safety_filter.constraints,
        safety_filter.layout,
        safety_filter.torque_reference,
        safety_filter.qp_bounds,
    )
    return CompiledAssembly(*args), NumpyAssembly(*args)


def test_the_shipped_configurations_run_the_compiled_step(robot, safety_filter) -> None:
    """The extension is built by the install (a missing build must fail here, not slow down)."""
    assert safety_filter.assembly.name == "compiled"


def test_compiled_qp_data_equal_the_reference(robot, safety_filter, challenging_state) -> None:
    compiled, reference = both(safety_filter)
    rng = np.random.default_rng(7)
    for _ in range(STATES):
        q, v, u = challenging_state(robot, rng)
        terms = safety_filter.model.terms(q, v)
        assert compiled.assemble(terms, q, v, u) and reference.assemble(terms, q, v, u)
        for name in ("A", "b", "f", "upper", "lower", "H"):
            np.testing.assert_allclose(
                getattr(compiled.qp, name), getattr(reference.qp, name), rtol=1e-12, atol=1e-12
            )
        for name in ("G", "w", "h"):
            a, b = getattr(compiled, name), getattr(reference, name)
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-9 * max(1.0, np.abs(b).max()))


def test_compiled_qp_data_equal_the_reference_with_per_step_gains(
    robot, safety_filter, challenging_state
) -> None:
    """BarrierNet mode: a step's own (kappa, c1, c0) from per-step gains, on both paths."""
    compiled, reference = both(safety_filter)
    rng = np.random.default_rng(16)
    configured = safety_filter.configured_gains
    for _ in range(STATES):
        q, v, u = challenging_state(robot, rng)
        gains = configured * rng.uniform(0.01, safety_filter.config.learned_gain_max_ratio)
        coefficients = safety_filter.layout.coefficients(gains)
        terms = safety_filter.model.terms(q, v)
        assert compiled.assemble(terms, q, v, u, coefficients)
        assert reference.assemble(terms, q, v, u, coefficients)
        for name in ("A", "b", "f", "upper"):
            np.testing.assert_allclose(
                getattr(compiled.qp, name), getattr(reference.qp, name), rtol=1e-12, atol=1e-12
            )
        for name in ("G", "w", "h"):
            a, b = getattr(compiled, name), getattr(reference, name)
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-9 * max(1.0, np.abs(b).max()))
    # The configured gains give the layout's own coefficients, and the next plain step uses them.
    np.testing.assert_array_equal(
        safety_filter.layout.coefficients(configured),
        np.stack((safety_filter.layout.kappa, safety_filter.layout.c1, safety_filter.layout.c0)),
    )
    q, v, u = challenging_state(robot, rng)
    terms = safety_filter.model.terms(q, v)
    compiled.assemble(terms, q, v, u)
    reference.assemble(terms, q, v, u)
    np.testing.assert_allclose(compiled.qp.b, reference.qp.b, rtol=1e-12, atol=1e-12)


def test_compiled_certificate_equals_the_reference(robot, safety_filter, challenging_state):
    compiled, reference = both(safety_filter)
    limit = safety_filter.torque_box.limit
    rng = np.random.default_rng(8)
    outcomes = set()
    for _ in range(STATES):
        q, v, u = challenging_state(robot, rng)
        terms = safety_filter.model.terms(q, v)
        compiled.assemble(terms, q, v, u)
        reference.assemble(terms, q, v, u)
        x = safety_filter.solver.solve(reference.qp).x
        x = x + rng.normal(0, 0.05, x.shape) * (rng.random() < 0.5)  # some answers break rows
        if rng.random() < 0.05:
            x[0] = 1.5 * limit[0] / safety_filter.torque_reference[0]  # outside the box
        outcome = compiled.certify(x, limit, 1e-6)
        assert outcome == reference.certify(x, limit, 1e-6)
        outcomes.add(outcome[0])
        if outcome[0] != NON_FINITE:
            np.testing.assert_allclose(compiled.command, reference.command, rtol=1e-13)
            np.testing.assert_allclose(compiled.residual, reference.residual, atol=1e-9)
    assert {CERTIFIED, HARD_ROW_VIOLATED, OUTSIDE_BOX} <= outcomes
    x[-1] = np.nan
    assert compiled.certify(x, limit, 1e-6)[0] == reference.certify(x, limit, 1e-6)[0] == NON_FINITE


def test_filter_results_are_the_same_on_both_paths(robot, robot_name, challenging_state) -> None:
    fast = SafetyFilter(robot, load_safety_config(robot_name))
    slow = SafetyFilter(robot, load_safety_config(robot_name), compiled=False)
    assert slow.assembly.name == "numpy"
    rng = np.random.default_rng(9)
    for _ in range(100):
        q, v, u = challenging_state(robot, rng)
        a, b = fast.filter(q, v, u), slow.filter(q, v, u)
        assert (a.mode, a.reason, a.active_constraints) == (b.mode, b.reason, b.active_constraints)
        np.testing.assert_allclose(a.command, b.command, atol=1e-9)
        np.testing.assert_allclose(a.margins, b.margins, atol=1e-7)
        np.testing.assert_allclose(a.slack, b.slack, atol=1e-9)
    assert fast.counters == slow.counters


def test_per_step_gain_results_are_the_same_on_both_paths(robot, robot_name, challenging_state):
    fast = SafetyFilter(robot, load_safety_config(robot_name))
    slow = SafetyFilter(robot, load_safety_config(robot_name), compiled=False)
    rng = np.random.default_rng(17)
    for _ in range(100):
        q, v, u = challenging_state(robot, rng)
        gains = fast.configured_gains * rng.uniform(0.1, 2.5, len(fast.gain_names))
        a, b = fast.filter(q, v, u, gains=gains), slow.filter(q, v, u, gains=gains)
        assert (a.mode, a.reason, a.active_constraints) == (b.mode, b.reason, b.active_constraints)
        np.testing.assert_allclose(a.gains, b.gains, rtol=1e-12)  # a raised gain_1: from h, h'
        np.testing.assert_allclose(a.command, b.command, atol=1e-9)
        np.testing.assert_allclose(a.margins, b.margins, atol=1e-7)
    assert fast.counters == slow.counters
    assert fast.counters["gains_replaced"] > 0  # some drawn gains were above the cap


def test_a_result_keeps_its_own_step_after_the_next_one(robot, safety_filter) -> None:
    """The compiled step reuses its buffers; a result's diagnostics must not see the next step."""
    v = 0.9 * robot.limits.velocity
    first = safety_filter.filter(robot.home, v, 3 * robot.limits.effort)
    expected = SafetyFilter(robot, safety_filter.config, compiled=False).filter(
        robot.home, v, 3 * robot.limits.effort
    )
    safety_filter.filter(robot.home, -v, -3 * robot.limits.effort)
    np.testing.assert_allclose(first.margins, expected.margins, atol=1e-9)
    np.testing.assert_allclose(first.condition_margins, expected.condition_margins, atol=1e-9)


def test_usable_inputs_agree_on_the_edges(robot, safety_filter) -> None:
    compiled, reference = both(safety_filter)
    bound = 1e3 * robot.limits.effort
    zero = np.zeros(robot.dof)
    cases = [
        (zero, zero, zero, True),
        (zero, zero, 0.999 * bound, True),
        (zero, zero, bound, False),
        (np.full(robot.dof, 1e149), zero, zero, True),
        (zero, np.full(robot.dof, 1e150), zero, False),
        (zero, zero, np.full(robot.dof, -np.inf), False),
        (np.full(robot.dof, np.nan), zero, zero, False),
    ]
    for q, v, u, expected in cases:
        assert compiled.usable(q, v, u, bound) is expected
        assert reference.usable(q, v, u, bound) is expected


def test_a_singular_contact_model_is_reported_by_both_paths(robot, safety_filter) -> None:
    """J = 0 makes J M⁻¹ Jᵀ singular (no real arm: a broken model); both refuse the step."""
    compiled, reference = both(safety_filter)
    dof, zero = robot.dof, np.zeros(robot.dof)
    terms = FilterTerms(np.eye(dof), zero.copy(), np.zeros(3), np.zeros((3, dof)), np.zeros(3))
    assert not compiled.assemble(terms, robot.home, zero, zero)
    assert not reference.assemble(terms, robot.home, zero, zero)


def test_misuse_of_the_kernel_raises_instead_of_reading_out_of_bounds(robot, safety_filter):
    compiled, _ = both(safety_filter)
    zero = np.zeros(robot.dof)
    terms = safety_filter.model.terms(robot.home, zero)
    with pytest.raises(ValueError, match="inverse_mass"):
        compiled.assemble(
            FilterTerms(
                terms.inverse_mass[:-1, :-1],
                terms.free_acceleration,
                terms.ee_position,
                terms.ee_jacobian,
                terms.ee_jacobian_dot_v,
            ),
            robot.home,
            zero,
            zero,
        )
    with pytest.raises(TypeError, match="float64"):
        compiled.assemble(terms, robot.home.astype(np.float32), zero, zero)
    with pytest.raises(ValueError, match="x has shape"):
        compiled.certify(np.zeros(1), safety_filter.torque_box.limit, 1e-6)


def test_a_custom_constraint_type_takes_the_reference_path(robot, robot_name) -> None:
    class SlowerVelocity(JointVelocityCBF):  # a subclass may change the rows: not compiled
        pass

    constraints = [SlowerVelocity(0.5 * robot.limits.velocity, 50.0)]
    f = SafetyFilter(robot, load_safety_config(robot_name), constraints=constraints)
    assert f.assembly.name == "numpy"
    assert (
        assembly_for(
            [JointVelocityCBF(robot.limits.velocity, 50.0)],
            f.layout,
            f.torque_reference,
            f.qp_bounds,
        ).name
        == "compiled"
    )
