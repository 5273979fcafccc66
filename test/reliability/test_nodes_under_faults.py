"""Faults through real topics against the running policy and safety filter nodes.

For each fault: no crash (the executor keeps spinning), every published command finite, inside
the torque box and (when MODE_FILTERED) satisfying the hard CBF rows at the state the filter
held; the fault is counted in SafetyStatus and /diagnostics; good input brings MODE_FILTERED back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from reliability_cases import (
    PANDA,
    FailingSolver,
    RaisingSolver,
    SlowSolver,
    infeasible_state,
)
from ros_harness import (
    DIAGNOSTICS_PERIOD,
    DT,
    FALLBACK,
    FILTERED,
    HOME,
    WATCHDOG,
    ZERO,
    Loop,
    joint_state,
)
from sensor_msgs.msg import JointState

from ltc_control.nodes.fields import time_msg

# numpy overflow warnings are the point of huge inputs, not a problem
pytestmark = [pytest.mark.ros, pytest.mark.filterwarnings("ignore::RuntimeWarning")]
JOINTS = list(PANDA.joint_names)


def assert_safe_and_recovers(loop: Loop) -> None:
    assert loop.recover(), f"no recovery: last status {loop.last_status()}"
    assert loop.unsafe_outputs() == []


def _modes(loop: Loop, since: int) -> list[int]:
    return [s.mode for s in loop.probe.statuses[since:]]


# --- malformed joint states -----------------------------------------------------------------

# kind -> (message at stamp t, what the filter's log line says)
BAD_JOINT_STATES: dict[str, tuple[Callable[[float], JointState], str]] = {
    "nan position": (lambda t: joint_state(t, [math.nan, *HOME[1:]]), "non-finite joint values"),
    "inf velocity": (
        lambda t: joint_state(t, HOME, [*ZERO[:6], math.inf]),
        "non-finite joint values",
    ),
    "short position": (
        lambda t: joint_state(t, HOME[:6], ZERO, JOINTS),
        "7 joint names but 6 values",
    ),
    "no velocity": (lambda t: joint_state(t, HOME, []), "7 joint names but 0 values"),
    "unknown joint": (
        lambda t: joint_state(t, HOME, ZERO, ["elbow", *JOINTS[1:]]),
        "message lacks joints ['panda_joint1']",
    ),
    "missing joint": (
        lambda t: joint_state(t, HOME[:6], ZERO[:6], JOINTS[:6]),
        "message lacks joints ['panda_joint7']",
    ),
    "duplicated joint": (
        lambda t: joint_state(t, [*HOME, 0.0], [*ZERO, 0.0], [*JOINTS, JOINTS[2]]),
        "joint 'panda_joint3' appears twice in the message",
    ),
    "empty": (lambda t: _stamped(JointState(), t), "message lacks joints ['panda_joint1'"),
    "huge position": (lambda t: joint_state(t, np.full(PANDA.dof, 1e300)), ""),
}


def _stamped(msg: JointState, t: float) -> JointState:
    msg.header.stamp = time_msg(t)
    return msg


@pytest.mark.parametrize("kind", sorted(BAD_JOINT_STATES))
def test_malformed_joint_states_brake_count_and_recover(loop: Loop, kind: str, capfd) -> None:
    status_before = loop.last_status()
    policy_before = loop.probe.policy_states[-1].rejected_messages
    first = len(loop.probe.statuses)
    make, log = BAD_JOINT_STATES[kind]
    for _ in range(12):
        loop.tick(message=make(loop.t + DT), valid=kind == "huge position", wait=False)
        loop.spin_for(0.01)
    modes = _modes(loop, first)
    assert WATCHDOG in modes or FALLBACK in modes, modes
    assert loop.recover()
    status = loop.last_status()
    counted = status.rejected_messages - status_before.rejected_messages
    if kind == "huge position":  # finite: the filter holds it; each QP on it is invalid_input
        assert 1 <= counted <= 5  # until the held nominal command is 50 ms old (watchdog)
    else:
        assert counted == 12
    assert loop.diagnostics_counter("rejected_messages") >= status.rejected_messages
    assert status.watchdog_count > status_before.watchdog_count
    assert loop.probe.policy_states[-1].rejected_messages == policy_before + 12
    err = capfd.readouterr().err
    assert f"[safety_filter]: joint state refused: {log}" in err or not log, err[-2000:]
    reason = "network_input" if kind == "huge position" else "bad_joint_state"
    assert f"[policy]: joint state refused: {{'{reason}': " in err
    assert loop.unsafe_outputs() == []


@pytest.mark.parametrize(
    "message",
    [
        lambda t: joint_state(t, HOME[::-1], ZERO, JOINTS[::-1]),
        lambda t: joint_state(t, [*HOME, 0.04], [*ZERO, 0.0], [*JOINTS, "panda_finger_joint1"]),
    ],
    ids=["reordered", "extra joint"],
)
def test_reordered_or_extra_joints_are_filtered_normally(loop: Loop, message) -> None:
    rejected = loop.last_status().rejected_messages
    for _ in range(5):
        assert loop.tick(message=message(loop.t + DT))
    assert loop.mode() == FILTERED and loop.last_status().rejected_messages == rejected
    assert loop.unsafe_outputs() == []


# --- malformed nominal commands (the probe plays the policy) ---------------------------------


@pytest.fixture
def filter_only(ros_context, untrained_panda_policy: Path) -> Iterator[Loop]:
    """The safety filter alone; the probe publishes the nominal commands."""
    running = Loop(ros_context, untrained_panda_policy, with_policy=False)
    running.probe.set_clock(running.t)
    running.tick(wait=False)
    yield running
    running.close()


def _nominal(effort: list, names: list, stamp: float) -> JointState:
    msg = JointState(name=names, effort=effort)
    msg.header.stamp = time_msg(stamp)
    return msg


def _good_nominal_tick(loop: Loop) -> bool:
    loop.probe.nominal_pub.publish(_nominal([0.0] * 7, JOINTS, loop.t))
    loop.spin_for(0.002)
    return loop.tick()


@pytest.mark.parametrize(
    ("effort", "names", "reason"),
    [
        ([math.nan] * 7, JOINTS, "malformed nominal command: non-finite joint values"),
        ([1.0] * 6, JOINTS, "malformed nominal command: 7 joint names but 6 values"),
        ([1.0] * 7, ["x", *JOINTS[1:]], "malformed nominal command: message lacks joints"),
        ([], [], "malformed nominal command: message lacks joints"),
        ([1e300] * 7, JOINTS, "invalid_input: u_nominal beyond 1000 x the effort limits"),
        ([5e3] * 7, JOINTS, ""),  # finite, far beyond the box: filtered into the box
    ],
)
def test_malformed_nominal_commands_brake_with_the_reason(
    filter_only: Loop, effort: list, names: list, reason: str
) -> None:
    loop = filter_only
    assert loop.spin_until(lambda: _good_nominal_tick(loop) and loop.mode() == FILTERED, 10.0)
    before = loop.last_status()
    loop.probe.nominal_pub.publish(_nominal(effort, names, loop.t))
    loop.spin_for(0.005)
    first = len(loop.probe.statuses)
    for _ in range(3):  # the filter holds the bad command until a good one arrives
        assert loop.tick()
    answers = loop.probe.statuses[first:]
    assert all(a.mode == (FALLBACK if reason else FILTERED) for a in answers)
    assert all(a.reason.startswith(reason) for a in answers), [a.reason for a in answers]
    # A malformed message is counted once; a non-finite filter input once per filtered step.
    rejected = loop.last_status().rejected_messages - before.rejected_messages
    expected = {"": 0, "m": 1, "i": len(answers)}[reason[:1]]
    assert rejected == expected
    if reason:
        assert loop.diagnostics_counter("rejected_messages") >= before.rejected_messages + 1
    assert loop.spin_until(lambda: _good_nominal_tick(loop) and loop.mode() == FILTERED, 10.0)
    assert loop.unsafe_outputs() == []


# --- time -----------------------------------------------------------------------------------


STAMP_VERDICTS = {  # control.stamps.StampVerdict values, as logged and counted
    "stale": "stale",
    "future": "future",
    "repeated": "out_of_order",
    "out of order": "out_of_order",
    "wall clock stamps": "future",
}


def _stamp_fault(loop: Loop, kind: str, last_good: float) -> JointState:
    t = loop.t + DT  # the clock when this message is published
    stamps = {
        "stale": t - 1.0,
        "future": t + 1.0,
        "repeated": last_good,
        "out of order": last_good - 3 * DT,
        "wall clock stamps": 1.7e9,  # wall time while the nodes run on sim time
    }
    return joint_state(stamps[kind])


@pytest.mark.parametrize(
    "kind", ["stale", "future", "repeated", "out of order", "wall clock stamps"]
)
def test_bad_stamps_are_refused_by_both_nodes(loop: Loop, kind: str, capfd) -> None:
    before = loop.last_status()
    policy_before = loop.probe.policy_states[-1].rejected_messages
    first = len(loop.probe.statuses)
    last_good = loop.t
    for _ in range(12):
        loop.tick(message=_stamp_fault(loop, kind, last_good), valid=False, wait=False)
        loop.spin_for(0.01)
    modes = _modes(loop, first)
    assert WATCHDOG in modes, modes
    assert loop.recover()
    assert loop.last_status().rejected_messages == before.rejected_messages + 12
    assert loop.probe.policy_states[-1].rejected_messages == policy_before + 12
    verdict = STAMP_VERDICTS[kind]
    err = capfd.readouterr().err
    assert f"[safety_filter]: joint state refused: {verdict} stamp" in err, err[-2000:]
    assert f"[policy]: joint state refused: {{'{verdict}': " in err
    assert loop.unsafe_outputs() == []


def test_sim_clock_jumping_backwards_resets_and_recovers(loop: Loop) -> None:
    """A simulator reset: /clock and stamps go from ~1.2 s back to 0.1 s."""
    for _ in range(10):
        loop.tick()
    steps_before = loop.probe.policy_states[-1].step_count
    loop.t = 0.1
    first = len(loop.probe.statuses)
    assert loop.recover()
    assert loop.probe.policy_states[-1].step_count < steps_before  # hidden state reset
    assert loop.unsafe_outputs() == []
    assert all(s.mode in (FILTERED, WATCHDOG) for s in loop.probe.statuses[first:])


# --- solver faults (SafetyFilter.solver is the filter's public solver object) ----------------


@pytest.mark.parametrize(
    ("solver", "reason"),
    [
        (FailingSolver(-4), "solver_failure: daqp exitflag -4 (iteration limit)"),
        (RaisingSolver(), "filter error: RuntimeError: solver crashed"),
    ],
)
def test_solver_failure_brakes_counts_and_recovers(loop: Loop, solver, reason: str, capfd) -> None:
    working = loop.safety.filter.solver
    before = loop.last_status().solver_failure_count
    loop.safety.filter.solver = solver
    first = len(loop.probe.statuses)
    for _ in range(5):
        assert loop.tick()
    assert {s.reason for s in loop.probe.statuses[first:]} == {reason}
    assert all(s.mode == FALLBACK for s in loop.probe.statuses[first:])
    assert loop.last_status().solver_failure_count == before + 5
    errors = [d for d in loop.diagnostics() if d["level"] == DiagnosticStatus.ERROR[0]]
    assert loop.diagnostics_counter("solver_failures") >= before + 5
    assert any(reason in d["message"] for d in loop.diagnostics()), errors
    err = capfd.readouterr().err
    assert f"[safety_filter]: {_LOGGED[reason[:6]]}" in err, err[-2000:]
    loop.safety.filter.solver = working
    assert_safe_and_recovers(loop)


_LOGGED = {  # the filter node's log line for each failure
    "solver": "fallback: solver_failure: daqp exitflag -4 (iteration limit)",
    "filter": "filter error: RuntimeError('solver crashed')",
}


def test_slow_solver_counts_deadline_overruns(loop: Loop) -> None:
    working = loop.safety.filter.solver
    loop.safety.filter.solver = SlowSolver(working, delay_s=2 * DT)
    for _ in range(5):
        assert loop.tick()
    assert loop.last_status().deadline_overruns >= 3
    assert loop.mode() == FILTERED
    loop.safety.filter.solver = working
    assert loop.diagnostics_counter("deadline_overruns") >= 3
    assert_safe_and_recovers(loop)


def test_infeasible_state_brakes_and_counts(loop: Loop) -> None:
    q, v = infeasible_state()
    before = loop.last_status().infeasible_count
    first = len(loop.probe.statuses)
    for _ in range(5):
        loop.tick(q, v)
    infeasible = [s for s in loop.probe.statuses[first:] if s.reason.startswith("infeasible")]
    assert infeasible and all(s.mode == FALLBACK for s in infeasible)
    assert loop.last_status().infeasible_count >= before + len(infeasible)
    assert loop.diagnostics_counter("infeasible") >= before + len(infeasible)
    assert_safe_and_recovers(loop)


# --- targets --------------------------------------------------------------------------------


def test_bad_targets_are_refused_by_the_policy(loop: Loop) -> None:
    """NaN is refused on arrival (the old target is kept); 1e300 is finite, so it is taken, and
    then every step is refused (the network cannot represent it): watchdog braking until a good
    target arrives."""
    rejected = loop.probe.policy_states[-1].rejected_messages
    loop.probe.publish_target((np.nan, 0.0, 0.5))
    for _ in range(3):
        assert loop.tick()
    assert loop.mode() == FILTERED
    assert loop.probe.policy_states[-1].rejected_messages == rejected + 1
    loop.probe.publish_target((1e300, 0.0, 0.5))
    first = len(loop.probe.statuses)
    for _ in range(10):
        loop.tick(wait=False)
        loop.spin_for(0.01)
    assert WATCHDOG in _modes(loop, first)
    loop.probe.publish_target()
    assert_safe_and_recovers(loop)
    assert loop.probe.policy_states[-1].rejected_messages >= rejected + 1 + 5


# --- status order ---------------------------------------------------------------------------


def test_a_status_superseded_while_it_waits_is_never_published(loop: Loop) -> None:
    """A cycle's status waits until its command is delivered; a braking status published in
    the meantime supersedes it, so the filtering status cannot arrive after the braking one."""
    published: list[int] = []
    publish_status = loop.safety._publish_status

    def recorded(status) -> None:
        published.append(status.mode)
        publish_status(status)

    loop.safety._publish_status = recorded
    loop.safety._control_step(loop.safety._now())  # filtered; its status is queued
    assert published == []
    loop.safety.publish_braking("operator stop")  # at once
    assert published == ["fallback"]
    loop.spin_for(0.1)
    assert published == ["fallback"]
    assert loop.spin_until(lambda: loop.last_status().reason == "operator stop", 5.0)
    assert_safe_and_recovers(loop)


# --- health ---------------------------------------------------------------------------------


def test_diagnostics_warn_about_recent_rejections_then_return_to_ok(loop: Loop) -> None:
    """WARN says what to act on now: a burst of refused joint states warns in the window it
    happened in; once the input is good again for a window, the report is OK, not a lasting
    'ever happened' WARN."""
    make, _ = BAD_JOINT_STATES["nan position"]
    seen = len(loop.probe.diagnostics)
    for _ in range(3):
        loop.tick(message=make(loop.t + DT), valid=False, wait=False)
        loop.spin_for(0.01)
    assert loop.recover()
    for _ in range(round(4 * DIAGNOSTICS_PERIOD / DT)):  # a few clean windows
        loop.tick()
    reports = loop.diagnostics()[seen:]
    assert any(d["message"].startswith("filtering, with") and d["level"] == 1 for d in reports)
    assert reports[-1]["level"] == 0 and reports[-1]["message"] == "filtering", reports[-1]
