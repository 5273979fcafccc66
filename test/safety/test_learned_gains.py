"""Per-step class-K gains (BarrierNet mode): what a policy's gains may and may not do to the filter.

Claims, checked for any gain input (hypothesis: NaN, ±inf, zero, negative, beyond the cap or the
sampled-data bound, vectors of the wrong length or type):
- every gain the rows use is in its safe range (0 < g <= cap, g * dt < 1), so the sampled-data
  guarantee of ltc_control.safety.constraints holds with the gains used;
- a bad gain never loosens anything: the filter's command equals (to solver precision) the
  command of a filter given the same vector with each bad entry replaced by the configured gain,
  and an all-bad vector gives exactly the command of the configured gains (given as per-step
  gains; that is the plain filter's command wherever psi1 >= 0 holds with the configured
  gain_1); every replacement is counted;
- a relative-degree-2 group's gain_1 is never below -h'/h on its rows (psi1 >= 0, the set the
  HOCBF keeps invariant) unless it is at its cap, so gains switching every step keep the joints
  inside their limits (exact zero-order-hold integration of the filter's own model);
- the command stays inside the torque box and, when the QP is solved, every hard row re-derived
  from the constraint classes with the gains used holds.
And good gains act as intended: a larger gain lets the joint accelerate toward a limit faster.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltc_control.errors import ConfigError
from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyFilter, load_safety_config
from ltc_control.safety.constraints import inequality_rows
from ltc_control.safety.spec import CvxpySpecification

ROBOTS = {name: load_robot_description(name) for name in ("panda", "double_pendulum")}
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fresh(name: str, compiled: bool = True) -> SafetyFilter:
    return SafetyFilter(ROBOTS[name], load_safety_config(name), compiled=compiled)


FILTERS = {name: fresh(name) for name in ROBOTS}

BAD_VALUES = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, -1e300, 1e300, 1e6])


@st.composite
def gain_inputs(draw, name: str):
    """(given vector, the same with each bad entry replaced by the configured gain)."""
    safety_filter = FILTERS[name]
    configured, cap = safety_filter.configured_gains, safety_filter.gain_cap
    bound = 1.0 / safety_filter.config.control_period
    given, cleaned = [], []
    for default, ceiling in zip(configured, cap, strict=True):
        kind = draw(st.sampled_from(["good", "bad", "above_cap"]))
        if kind == "good":
            value = draw(st.floats(1e-3 * default, min(ceiling, 0.999 * bound)))
            given.append(value), cleaned.append(value)
        elif kind == "above_cap":
            given.append(draw(st.floats(ceiling * 1.0001, 1e9))), cleaned.append(default)
        else:
            given.append(draw(BAD_VALUES)), cleaned.append(default)
    return np.array(given), np.array(cleaned)


@st.composite
def cases(draw):
    name = draw(st.sampled_from(sorted(ROBOTS)))
    seed = draw(st.integers(0, 2**32 - 1))
    given, cleaned = draw(gain_inputs(name))
    return name, seed, given, cleaned


def _hard_rows_hold(safety_filter: SafetyFilter, q, v, command, gains) -> None:
    """Every hard row, re-derived from the constraint classes with `gains`, holds at command."""
    terms, groups = safety_filter.rows(q, v)
    dt, start = safety_filter.config.control_period, 0
    for rows, constraint in zip(groups, safety_filter.constraints, strict=True):
        used = tuple(gains[start : start + rows.relative_degree])
        start += rows.relative_degree
        if not constraint.soft:
            G, w = inequality_rows(dataclasses.replace(rows, gains=used), terms, dt)
            assert np.all(G @ command <= w + 1e-6), constraint.name


@SETTINGS
@given(cases())
def test_bad_gains_are_replaced_counted_and_never_loosen(challenging_state, case) -> None:
    name, seed, given, cleaned = case
    q, v, u = challenging_state(ROBOTS[name], np.random.default_rng(seed))
    with_given, with_cleaned = fresh(name), fresh(name)
    result = with_given.filter(q, v, u, gains=given)
    reference = with_cleaned.filter(q, v, u, gains=cleaned)
    replaced = int(np.count_nonzero(~(given == cleaned)))  # NaN == x is False
    assert result.gains_replaced == replaced == with_given.counters["gains_replaced"]
    np.testing.assert_array_equal(result.gains, reference.gains)
    # Equal, except a relative-degree-2 group's gain_1 raised to keep psi1 >= 0.
    raisable = [n in ("joint_position.gain_1", "workspace.gain_1") for n in with_given.gain_names]
    assert np.all(result.gains >= cleaned)
    np.testing.assert_array_equal(result.gains[~np.array(raisable)], cleaned[~np.array(raisable)])
    safety_filter = with_given
    dt = safety_filter.config.control_period
    assert np.all(result.gains > 0) and np.all(result.gains <= safety_filter.gain_cap)
    assert np.all(result.gains * dt < 1.0)
    assert result.mode == reference.mode
    np.testing.assert_allclose(result.command, reference.command, rtol=0, atol=1e-9)
    assert np.all(np.isfinite(result.command))
    assert np.all(np.abs(result.command) <= safety_filter.torque_box.limit)
    if result.mode == "filtered":
        _hard_rows_hold(safety_filter, q, v, result.command, result.gains)
        _psi1_holds_or_gain_at_cap(safety_filter, q, v, result.gains)


def _psi1_holds_or_gain_at_cap(safety_filter: SafetyFilter, q, v, gains) -> None:
    _, groups = safety_filter.rows(q, v)
    start = 0
    for rows in groups:
        if rows.relative_degree == 2:
            psi1 = rows.h_dot + gains[start] * rows.h
            at_cap = gains[start] >= min(
                safety_filter.gain_cap[start], 0.999 / safety_filter.config.control_period
            )
            inside = rows.h > 0
            tolerance = 1e-9 * (1 + np.abs(rows.h_dot[inside]))
            assert at_cap or np.all(psi1[inside] >= -tolerance), rows.name
        start += rows.relative_degree


@SETTINGS
@given(
    name=st.sampled_from(sorted(ROBOTS)),
    seed=st.integers(0, 2**32 - 1),
    gains=st.one_of(
        st.lists(BAD_VALUES, min_size=1, max_size=6),  # bad values, any length
        st.lists(st.floats(1.0, 10.0), max_size=8),  # good values, often the wrong length
        st.just("fast"),
        st.just([[1.0, 2.0]]),
    ),
)
def test_an_unusable_gain_vector_gives_exactly_the_configured_command(
    challenging_state, name, seed, gains
):
    safety_filter = FILTERS[name]
    n = len(safety_filter.gain_names)
    if isinstance(gains, list) and len(gains) == n and all(1.0 <= g <= 10.0 for g in gains):
        gains = [*gains, 1.0]  # a usable vector: make it the wrong length
    q, v, u = challenging_state(ROBOTS[name], np.random.default_rng(seed))
    learned, configured, plain = fresh(name), fresh(name), fresh(name)
    result = learned.filter(q, v, u, gains=gains)
    reference = configured.filter(q, v, u, gains=safety_filter.configured_gains)
    assert result.gains_replaced == n == learned.counters["gains_replaced"]
    assert configured.counters["gains_replaced"] == 0
    assert learned.counters["learned_gains"] == 1 and plain.counters["learned_gains"] == 0
    np.testing.assert_array_equal(result.gains, reference.gains)
    assert (result.mode, result.reason) == (reference.mode, reference.reason)
    np.testing.assert_array_equal(result.command, reference.command)
    if np.array_equal(result.gains, safety_filter.configured_gains):  # no gain_1 raised
        expected = plain.filter(q, v, u)
        assert (result.mode, result.reason) == (expected.mode, expected.reason)
        np.testing.assert_array_equal(result.command, expected.command)


@pytest.mark.parametrize("name", sorted(ROBOTS))
def test_gains_switching_every_step_keep_the_joints_inside_their_limits(name) -> None:
    """gain_1 alternates between its cap and 1/20 of the configured value while full torque
    drives every joint into a limit: with the filter's own model integrated exactly (zero-order
    hold), h >= 0 on every position row at every step. The raised gain_1 is what holds it: a
    joint approaching at the speed the cap allowed may not keep that speed under the low gain."""
    robot, safety_filter = ROBOTS[name], fresh(name)
    dt = safety_filter.config.control_period
    lower = robot.limits.lower + safety_filter.config.position_margin
    upper = robot.limits.upper - safety_filter.config.position_margin
    high, low = safety_filter.gain_cap.copy(), safety_filter.configured_gains / 20
    rng = np.random.default_rng(5)
    for episode in range(3):
        q, v = robot.home.copy(), np.zeros(robot.dof)
        push = np.where(rng.random(robot.dof) < 0.5, -1.0, 1.0) * safety_filter.torque_box.limit
        for step in range(1500):
            gains = high if (step // (1 + episode)) % 2 == 0 else low
            result = safety_filter.filter(q, v, push, gains=gains)
            terms = safety_filter.model.terms(q, v)
            a = terms.inverse_mass @ result.command + terms.free_acceleration
            q, v = q + v * dt + 0.5 * a * dt**2, v + a * dt
            assert np.all(q <= upper + 1e-9) and np.all(q >= lower - 1e-9), (episode, step)
    assert safety_filter.counters["gains_raised"] > 0


def _acceleration(safety_filter: SafetyFilter, q, v, command) -> np.ndarray:
    terms = safety_filter.model.terms(q, v)
    return terms.inverse_mass @ command + terms.free_acceleration


@pytest.mark.parametrize("name", sorted(ROBOTS))
def test_a_larger_velocity_gain_lets_the_joint_approach_its_limit_faster(name) -> None:
    """Relative degree 1, h = limit - v: the row is a <= gain * h, active under a strong push."""
    robot, safety_filter = ROBOTS[name], fresh(name)
    index = safety_filter.gain_names.index("joint_velocity.gain_1")
    limit = robot.limits.velocity[0] - safety_filter.config.velocity_margin
    v, q = np.zeros(robot.dof), robot.home.copy()
    v[0] = limit - 0.05  # h = 0.05 rad/s
    u = np.zeros(robot.dof)
    u[0] = 0.99 * safety_filter.torque_box.limit[0]
    accelerations = []
    for scale in (0.25, 0.5, 1.0, 2.0):
        gains = safety_filter.configured_gains.copy()
        gains[index] *= scale
        result = safety_filter.filter(q, v, u, gains=gains)
        assert result.mode == "filtered" and result.gains_replaced == 0
        assert "joint_velocity" in result.active_constraints
        accelerations.append(_acceleration(safety_filter, q, v, result.command)[0])
        assert accelerations[-1] == pytest.approx(gains[index] * 0.05, rel=1e-6)
    assert np.all(np.diff(accelerations) > 0)


@pytest.mark.parametrize("name", sorted(ROBOTS))
@pytest.mark.parametrize("which", ["joint_position.gain_1", "joint_position.gain_2"])
def test_larger_position_gains_let_a_resting_joint_accelerate_toward_its_limit(name, which):
    """Relative degree 2 at rest (h' = 0): kappa a <= gain_1 gain_2 h, kappa = 1 + gain_1 dt / 2.
    (Joint limits only: near a joint limit the workspace rows may bind first.)"""
    robot = ROBOTS[name]
    config = load_safety_config(name)
    config = dataclasses.replace(config, workspace_enabled=False, force_enabled=False)
    safety_filter = SafetyFilter(robot, config)
    index = safety_filter.gain_names.index(which)
    q, v = robot.home.copy(), np.zeros(robot.dof)
    h = 0.01
    q[0] = robot.limits.upper[0] - safety_filter.config.position_margin - h
    u = safety_filter.braking_command(q, v)  # hold against gravity, then push joint 0 up
    u[0] = 0.99 * safety_filter.torque_box.limit[0]
    accelerations = []
    for scale in (0.5, 1.0, 2.0):
        gains = safety_filter.configured_gains.copy()
        gains[index] *= scale
        result = safety_filter.filter(q, v, u, gains=gains)
        assert result.mode == "filtered" and "joint_position" in result.active_constraints
        accelerations.append(_acceleration(safety_filter, q, v, result.command)[0])
        k = safety_filter.gain_names.index("joint_position.gain_1")
        g1, g2 = gains[k], gains[k + 1]
        kappa = 1 + 0.5 * g1 * safety_filter.config.control_period
        assert accelerations[-1] == pytest.approx(g1 * g2 * h / kappa, rel=1e-6)
    assert np.all(np.diff(accelerations) > 0)


def test_the_cap_is_a_config_key_that_only_tightens_at_run_time(robot, robot_name) -> None:
    safety_filter = fresh(robot_name)
    configured, at_cap = safety_filter.configured_gains, safety_filter.gain_cap.copy()
    rest = (robot.home, np.zeros(robot.dof), np.zeros(robot.dof))
    assert safety_filter.filter(*rest, gains=at_cap).gains_replaced == 0
    assert safety_filter.filter(*rest, gains=at_cap * 1.001).gains_replaced == len(configured)
    safety_filter.tighten(learned_gain_max_ratio=1.0)
    np.testing.assert_array_equal(safety_filter.gain_cap, configured)
    assert safety_filter.filter(*rest, gains=at_cap).gains_replaced == len(configured)
    assert safety_filter.filter(*rest, gains=0.5 * configured).gains_replaced == 0
    with pytest.raises(ConfigError, match="learned_gain_max_ratio"):
        safety_filter.tighten(learned_gain_max_ratio=3.0)
    with pytest.raises(ConfigError, match="learned_gain_max_ratio"):
        dataclasses.replace(safety_filter.config, learned_gain_max_ratio=0.5).validate()


def test_results_cannot_change_the_configured_gains(safety_filter, robot) -> None:
    result = safety_filter.filter(robot.home, np.zeros(robot.dof), np.zeros(robot.dof))
    with pytest.raises(ValueError):
        result.gains[0] = 1e9


@pytest.mark.slow
def test_per_step_gains_agree_with_the_cvxpy_specification(
    robot, robot_name, challenging_state
) -> None:
    """The fast path with per-step gains solves the QP the spec writes with the same gains."""
    safety_filter = fresh(robot_name)
    spec = CvxpySpecification(safety_filter)
    rng = np.random.default_rng(16)
    compared = 0
    for _ in range(400):
        q, v, u = challenging_state(robot, rng)
        gains = safety_filter.configured_gains * rng.uniform(
            0.1, 2.0, len(safety_filter.gain_names)
        )
        fast = safety_filter.filter(q, v, u, gains=gains)
        assert fast.gains_replaced == 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Clarabel's "may be inaccurate": compared anyway
            reference = spec.solve(q, v, u, gains=fast.gains)  # a gain_1 may be raised
        if fast.mode == "filtered" and reference.status == "optimal":
            compared += 1
            error = np.max(np.abs(fast.command - reference.command) / robot.limits.effort)
            assert error < 1e-6
    assert compared >= 200
