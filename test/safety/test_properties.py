"""Property tests: whatever the (finite) state and nominal command, the output is inside the torque
box, and every hard constraint row holds whenever the filter reports a solved QP; non-finite input
gives the braking command and a counted flag."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyFilter, load_safety_config
from ltc_control.safety.constraints import inequality_rows

ROBOTS = {name: load_robot_description(name) for name in ("panda", "double_pendulum")}
FILTERS = {name: SafetyFilter(robot, load_safety_config(name)) for name, robot in ROBOTS.items()}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _vector(robot, low_of, high_of, scale=1.0):
    low, high = low_of(robot) * scale, high_of(robot) * scale
    return st.tuples(
        *(st.floats(float(a), float(b), allow_nan=False) for a, b in zip(low, high, strict=True))
    ).map(np.array)


@st.composite
def scenarios(draw):
    name = draw(st.sampled_from(sorted(ROBOTS)))
    robot = ROBOTS[name]
    limits = robot.limits
    q = draw(_vector(robot, lambda r: r.limits.lower - 0.3, lambda r: r.limits.upper + 0.3))
    v = draw(_vector(robot, lambda r: -r.limits.velocity, lambda r: r.limits.velocity, 1.5))
    u = draw(_vector(robot, lambda r: -r.limits.effort, lambda r: r.limits.effort, 5.0))
    del limits
    return name, q, v, u


def _assert_in_torque_box(safety_filter, command) -> None:
    assert np.all(np.isfinite(command))
    assert np.all(np.abs(command) <= safety_filter.torque_box.limit)


@SETTINGS
@given(scenarios())
def test_output_in_torque_box_and_hard_rows_hold(scenario) -> None:
    name, q, v, u = scenario
    safety_filter = FILTERS[name]
    result = safety_filter.filter(q, v, u)
    _assert_in_torque_box(safety_filter, result.command)
    assert result.constraint_names[0] == "torque_box"
    assert len(result.margins) == len(result.slack) == len(result.constraint_names)
    if result.mode != "filtered":
        assert result.reason.startswith("infeasible"), result.reason
        return
    # Re-derive every hard row from the constraint classes (the reference form, not the filter's
    # stacked matrices) and check it at the returned command.
    terms, groups = safety_filter.rows(q, v)
    dt = safety_filter.config.control_period
    for rows, constraint in zip(groups, safety_filter.constraints, strict=True):
        if not constraint.soft:
            G, w = inequality_rows(rows, terms, dt)
            assert np.all(G @ result.command <= w + 1e-6), constraint.name
    hard = [not c.soft for c in safety_filter.constraints]
    assert np.all(result.slack[1:][hard] == 0.0)
    assert np.all(result.slack >= 0.0)


@SETTINGS
@given(
    scenarios(),
    st.sampled_from(["q", "v", "u"]),
    st.integers(0, 6),
    st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_non_finite_input_gives_braking_command_and_a_flag(scenario, which, index, bad) -> None:
    name, q, v, u = scenario
    safety_filter = FILTERS[name]
    inputs = {"q": q.copy(), "v": v.copy(), "u": u.copy()}
    inputs[which][index % len(q)] = bad
    before = safety_filter.counters
    result = safety_filter.filter(inputs["q"], inputs["v"], inputs["u"])
    after = safety_filter.counters
    assert result.mode == "fallback"
    assert result.reason.startswith("invalid_input")
    _assert_in_torque_box(safety_filter, result.command)
    assert after["invalid_input"] == before["invalid_input"] + 1
    assert after["fallback"] == before["fallback"] + 1
    if which == "u":  # the state is fine: the command is exactly the braking command
        np.testing.assert_array_equal(result.command, safety_filter.braking_command(q, v))
