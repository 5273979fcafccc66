"""The filter's torque loop without ROS: waits for the first nominal command, holds it between
policy steps, brakes on silence and on exceptions, refuses bad stamps; health over a window."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.control.filter_loop import (
    FALLBACK,
    FILTERED,
    WAITING,
    WAITING_REASON,
    WATCHDOG,
    FilterLoop,
    RecentTrouble,
)
from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyFilter, load_safety_config

ROBOT = load_robot_description("panda")
NAMES = ROBOT.joint_names
ZERO = np.zeros(ROBOT.dof)
DT = 0.001  # s, one torque-loop period


@pytest.fixture
def loop() -> FilterLoop:
    return FilterLoop(SafetyFilter(ROBOT, load_safety_config("panda")), watchdog_timeout=0.05)


def cycle(loop: FilterLoop, t: float, q: np.ndarray = ROBOT.home):
    assert loop.on_joint_state(NAMES, q, ZERO, stamp=t, now=t)
    return loop.step(t)


def test_before_the_first_nominal_command_the_loop_waits_braking(loop: FilterLoop) -> None:
    assert loop.step(0.0) is None  # no state yet: nothing to answer
    statuses = [cycle(loop, k * DT) for k in range(1, 80)]  # longer than the watchdog timeout
    assert {s.mode for s in statuses} == {WAITING}
    assert {s.reason for s in statuses} == {WAITING_REASON}
    assert all(s.braking and np.all(np.isnan(s.margins)) for s in statuses)
    np.testing.assert_allclose(statuses[-1].command, loop.filter.braking_command(ROBOT.home, ZERO))
    # Counted as waiting: not a watchdog event, not a fallback, no QP was asked.
    assert loop.waiting == 79 and loop.watchdog.fired == 0
    assert loop.filter.counters["fallback"] == loop.filter.counters["infeasible"] == 0
    assert loop.on_nominal(NAMES, ZERO, now=0.08)
    assert cycle(loop, 0.081).mode == FILTERED


def test_the_nominal_command_is_held_between_policy_steps(loop: FilterLoop) -> None:
    nominal = np.linspace(-1.0, 1.0, ROBOT.dof)
    loop.on_nominal(list(reversed(NAMES)), nominal[::-1], now=0.0)  # matched by name
    statuses = [cycle(loop, k * DT) for k in range(10)]
    assert all(s.mode == FILTERED for s in statuses)
    for status in statuses:
        np.testing.assert_array_equal(status.nominal, nominal)
    assert loop.filter.counters["filtered"] == 10


def test_silence_brakes_through_the_watchdog_once_per_silence(loop: FilterLoop) -> None:
    loop.on_nominal(NAMES, ZERO, now=0.0)
    assert cycle(loop, 0.01).mode == FILTERED
    late = cycle(loop, 0.07)  # the nominal command is 70 ms old
    assert late.mode == WATCHDOG and late.reason == "watchdog: no fresh nominal command"
    assert cycle(loop, 0.071).mode == WATCHDOG
    assert loop.watchdog.fired == 1
    assert loop.check_watchdog(0.2).reason == "watchdog: no fresh joint state"  # states stopped
    loop.on_nominal(NAMES, ZERO, now=0.2)
    assert cycle(loop, 0.201).mode == FILTERED


def test_an_exception_in_the_filter_core_brakes_and_is_counted(loop: FilterLoop) -> None:
    class Crashing:
        def solve(self, qp):
            raise FloatingPointError("solver crashed")

    loop.filter.solver = Crashing()
    loop.on_nominal(NAMES, ZERO, now=0.0)
    status = cycle(loop, 0.001)
    assert status.mode == FALLBACK and status.reason.startswith("filter error: FloatingPointError")
    assert loop.filter_errors == 1
    assert np.all(np.abs(status.command) <= ROBOT.limits.effort)


def test_refused_inputs_are_counted_and_change_nothing(loop: FilterLoop) -> None:
    loop.on_nominal(NAMES, ZERO, now=0.0)
    cycle(loop, 0.01)
    assert not loop.on_joint_state(NAMES, ROBOT.home + 0.1, ZERO, stamp=0.01, now=0.011)
    assert "repeated" in loop.refusal or "out_of_order" in loop.refusal, loop.refusal
    np.testing.assert_array_equal(loop.q, ROBOT.home)
    assert not loop.on_nominal(NAMES[:-1], ZERO[:-1], now=0.012)
    status = loop.step(0.012)
    assert status.mode == FALLBACK and status.reason.startswith("malformed nominal command")
    assert loop.rejected == 2


def test_a_new_activation_waits_again(loop: FilterLoop) -> None:
    loop.on_nominal(NAMES, ZERO, now=0.0)
    assert cycle(loop, 0.001).mode == FILTERED
    loop.start()
    assert loop.step(0.002) is None  # the state of the last activation is gone
    assert cycle(loop, 0.003).mode == WAITING


def test_health_warns_about_a_recent_rate_not_about_history() -> None:
    trouble = RecentTrouble(threshold=0.01)
    assert trouble.update(cycles=1000, overruns=3, rejected=1) == ""  # 0.4 % of the window
    assert trouble.update(cycles=2000, overruns=40, rejected=1) == "37 overruns in 1000 cycles"
    assert trouble.update(cycles=3000, overruns=41, rejected=1) == ""  # healthy again
    message = trouble.update(cycles=3100, overruns=41, rejected=30)
    assert message == "29 rejected inputs in 100 cycles"
