"""Shared pieces of the reliability tests and bench/load.py: the safety oracle, injected solver
faults, and hypothesis strategies for malformed joint-state / command messages.

The oracle (`unsafe_reason`) is what "unsafe" means in issue 7: a published command that is
non-finite, outside the torque box |u| <= torque_limit_scale * effort, or — when the filter
reported MODE_FILTERED — violates a hard CBF row G u <= w recomputed at the state the filter used
(the filter's own rows; tolerance its HARD_ROW_TOLERANCE).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import strategies as st

from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyFilter, load_safety_config
from ltc_control.safety.constraints import inequality_rows
from ltc_control.safety.filter import HARD_ROW_TOLERANCE
from ltc_control.safety.qp import QPSolution, QuadraticProgram

PANDA = load_robot_description("panda")
PANDA_SAFETY = load_safety_config("panda")
DAQP_EXITFLAGS = {-4: "iteration limit"}  # what a solver "timeout" looks like in DAQP


def make_filter() -> SafetyFilter:
    return SafetyFilter(PANDA, PANDA_SAFETY)


def infeasible_state() -> tuple[np.ndarray, np.ndarray]:
    """Joint 4 0.5 rad past its upper limit, moving outward at 3x its velocity limit: no torque
    in the box satisfies the hard position and velocity rows (a crash into the end stop)."""
    q, v = PANDA.home.copy(), np.zeros(PANDA.dof)
    q[3], v[3] = PANDA.limits.upper[3] + 0.5, 3.0 * PANDA.limits.velocity[3]
    return q, v


def torque_limit(safety_filter: SafetyFilter) -> np.ndarray:
    return safety_filter.config.torque_limit_scale * safety_filter.robot.limits.effort


def unsafe_reason(
    reference: SafetyFilter,
    q: np.ndarray | None,
    v: np.ndarray | None,
    command: np.ndarray,
    filtered: bool,
    gains: np.ndarray | None = None,
) -> str:
    """'' if `command` is safe at (q, v) (see the module docstring), else what is wrong.
    `gains`: the per-step class-K gains the filter reports it used (BarrierNet mode); they must
    be in their safe range, and the hard rows are checked with them."""
    command = np.asarray(command, dtype=float)
    if command.shape != (reference.robot.dof,):
        return f"command has shape {command.shape}"
    if not np.all(np.isfinite(command)):
        return f"non-finite command {command.tolist()}"
    excess = np.abs(command) - torque_limit(reference)
    if np.max(excess) > 1e-9:
        return f"outside the torque box by {np.max(excess):.3g} N·m"
    if filtered and q is not None and v is not None:
        if gains is not None and len(gains):
            gains = np.asarray(gains, dtype=float)
            dt = reference.config.control_period
            if not np.all((gains > 0) & (gains <= reference.gain_cap) & (gains * dt < 1)):
                return f"gains {gains.tolist()} outside their safe range"
        return _hard_row_violation(reference, q, v, command, gains)
    return ""


def _hard_row_violation(
    reference: SafetyFilter, q: np.ndarray, v: np.ndarray, command: np.ndarray, gains=None
) -> str:
    """Each hard group's rows in the reference form G u <= w (constraints.inequality_rows),
    relative to 1 + |w| (the filter's absolute tolerance, on rows of any size); with the
    configured gains, or `gains` (in the filter's gain_names order)."""
    terms, groups = reference.rows(q, v)
    dt = reference.config.control_period
    start = 0
    for constraint, rows in zip(reference.constraints, groups, strict=True):
        if gains is not None and len(gains):
            used = tuple(gains[start : start + rows.relative_degree])
            rows = replace(rows, gains=used)
        start += rows.relative_degree
        if constraint.soft:
            continue
        G, w = inequality_rows(rows, terms, dt)
        worst = np.min((w - G @ command) / (1.0 + np.abs(w)))
        if worst < -HARD_ROW_TOLERANCE:
            return f"hard CBF row of {constraint.name} violated by {-worst:.3g} (relative)"
    return ""


# --- injected solver faults (SafetyFilter.solver is public; these implement its solve()) ------


@dataclass
class FailingSolver:
    """DAQP's answer when it gives up: an exit flag other than optimal/infeasible."""

    exitflag: int = -4

    def reset(self) -> None:
        pass

    def solve(self, qp: QuadraticProgram | None) -> QPSolution:
        n = 0 if qp is None else len(qp.lower) + len(qp.b)
        detail = f"daqp exitflag {self.exitflag}"
        if self.exitflag in DAQP_EXITFLAGS:
            detail += f" ({DAQP_EXITFLAGS[self.exitflag]})"
        x = np.zeros(0 if qp is None else len(qp.lower))
        return QPSolution("failed", x, np.zeros(n), detail)


@dataclass
class WrongAnswerSolver:
    """Claims "optimal" but returns a wrong x: outside the box, NaN, or the unconstrained
    nominal clipped to the box (ignores every row)."""

    kind: str

    def reset(self) -> None:
        pass

    def solve(self, qp: QuadraticProgram) -> QPSolution:
        n_x = len(qp.lower)
        if self.kind == "box":
            x = 2.0 * np.minimum(qp.upper, 10.0)
        elif self.kind == "nan":
            x = np.full(n_x, np.nan)
        else:
            x = np.clip(-qp.f / np.diag(qp.H), qp.lower, qp.upper)
            x[len(qp.torque_scale) :] = 0.0
        return QPSolution("optimal", x, np.zeros(n_x + len(qp.b)))


class RaisingSolver:
    """A solver whose C extension raises (an exception the core does not expect)."""

    def reset(self) -> None:
        pass

    def solve(self, qp: QuadraticProgram) -> QPSolution:
        raise RuntimeError("solver crashed")


@dataclass
class SlowSolver:
    """A working solver that takes `delay_s` longer (a QP "timing out" past the period)."""

    inner: object
    delay_s: float

    def reset(self) -> None:
        self.inner.reset()

    def solve(self, qp: QuadraticProgram) -> QPSolution:
        time.sleep(self.delay_s)
        return self.inner.solve(qp)


# --- generated messages ---------------------------------------------------------------------

BAD_FLOATS = st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 1e38, 5e-324])
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)


def joint_values(dof: int, scale: float) -> st.SearchStrategy[list[float]]:
    """Plausible values, sometimes with faults: NaN/Inf/huge entries."""
    plausible = st.floats(-scale, scale, allow_nan=False)
    faulty = st.lists(plausible | BAD_FLOATS | ANY_FLOAT, min_size=dof, max_size=dof)
    good = st.lists(plausible, min_size=dof, max_size=dof)
    return st.one_of(faulty, good, good, good)  # 3 in 4 plausible: enough reach the filter


@st.composite
def joint_message(draw, joint_names: tuple[str, ...], scale: float = 3.0) -> dict:
    """A JointState-like dict: names maybe reordered, missing, duplicated, unknown or empty;
    arrays maybe of the wrong length; values maybe non-finite."""
    names = list(joint_names)
    fault = draw(
        st.sampled_from(
            ["none"] * 6
            + ["reorder", "missing", "duplicate", "unknown", "empty", "length", "extra"]
        )
    )
    if fault == "reorder":
        names = draw(st.permutations(names))
    elif fault == "missing":
        names.pop(draw(st.integers(0, len(names) - 1)))
    elif fault == "duplicate":
        names.append(draw(st.sampled_from(names)))
    elif fault == "unknown":
        names[draw(st.integers(0, len(names) - 1))] = draw(st.text(max_size=12))
    elif fault == "empty":
        names = []
    elif fault == "extra":
        names.append("panda_finger_joint1")
    n = len(names)
    position = draw(joint_values(n, scale))
    velocity = draw(joint_values(n, scale))
    if fault == "length":
        position = position[: draw(st.integers(0, max(n - 1, 0)))]
    return {"fault": fault, "name": names, "position": position, "velocity": velocity}


def command_values(dof: int) -> st.SearchStrategy[list[float]]:
    """Nominal torques (N·m): in range, far out of range, or non-finite."""
    return joint_values(dof, 500.0)


# --- the loop on the cores (bulk of the generated cases) -----------------------------------


@dataclass
class CaseOutcome:
    command: np.ndarray | None  # what the filter published for this case (None: nothing)
    filtered: bool
    problem: str  # '' when safe (or nothing published)


class CoreLoop:
    """The nodes' chain on the cores (the 1 kHz torque loop of the launch files), for the bulk of
    the generated cases, where DDS costs ~1 ms a message. Per joint state, as the nodes do it:
    the filter takes the state if its names, values and stamp pass (match_joints; StampClock
    with the watchdog timeout), and answers it with the held nominal command filtered at that
    state, or braking if the nominal is missing, malformed or older than the watchdog timeout;
    the policy controller steps on the same message (at most at its rate) and its command becomes
    the held nominal. `check`: "rows" = the full oracle, "margins" = box, finiteness and the
    filter's own condition margins of the hard groups (cheap, for the soak).
    """

    WATCHDOG_TIMEOUT = 0.05  # s, config/panda/ros.yaml

    def __init__(self, controller: object, safety_filter: SafetyFilter, check: str = "rows"):
        from ltc_control.control.stamps import StampClock
        from ltc_control.runtime.signals import SignalError, match_joints

        self._match, self._signal_error = match_joints, SignalError
        timeout = self.WATCHDOG_TIMEOUT
        self.stamps = StampClock(timeout, math.inf, timeout, timeout, timeout)
        self.controller = controller
        self.filter = safety_filter
        self.check = check
        self._hard = np.array([False] + [not c.soft for c in safety_filter.constraints])
        self.state: tuple[np.ndarray, np.ndarray] | None = None
        self.nominal: np.ndarray | None = None
        self.nominal_time = -math.inf
        self.rejected = 0

    def joint_state(self, msg: dict, stamp: float, now: float) -> CaseOutcome:
        outcome = CaseOutcome(None, False, "")
        if self._take_state(msg, stamp, now):
            outcome = self._answer(now)
        step = self.controller.on_joint_state(
            msg["name"], msg["position"], msg["velocity"], stamp, now
        )
        if step is not None:
            self.nominal, self.nominal_time = step.command, now
        return outcome

    def injected_nominal(self, names: list[str], effort: list[float], now: float) -> None:
        """A nominal command from elsewhere (maybe malformed: then braking until a good one)."""
        try:
            self.nominal = self._match(names, effort, self.filter.robot.joint_names)
            self.nominal_time = now
        except self._signal_error:
            self.rejected += 1
            self.nominal = None

    def _take_state(self, msg: dict, stamp: float, now: float) -> bool:
        joints = self.filter.robot.joint_names
        try:
            q = self._match(msg["name"], msg["position"], joints)
            v = self._match(msg["name"], msg["velocity"], joints)
        except self._signal_error:
            self.rejected += 1
            return False
        if not self.stamps.elapsed(stamp, now)[0].accepted:
            self.rejected += 1
            return False
        self.state = (q, v)
        return True

    def _answer(self, now: float) -> CaseOutcome:
        q, v = self.state
        if self.nominal is None or not 0.0 <= now - self.nominal_time <= self.WATCHDOG_TIMEOUT:
            command, result = self.filter.braking_command(q, v), None
        else:
            result = self.filter.filter(q, v, self.nominal)
            command = result.command
        filtered = result is not None and result.mode == "filtered"
        if self.check == "rows":
            problem = unsafe_reason(self.filter, q, v, command, filtered)
        else:
            problem = unsafe_reason(self.filter, None, None, command, False)
            if filtered and np.min(result.condition_margins[self._hard]) < -HARD_ROW_TOLERANCE:
                problem = "hard CBF condition margin < 0"
        return CaseOutcome(command, filtered, problem)


def make_core_loop(policy_file: str, check: str = "rows") -> CoreLoop:
    """CoreLoop with the parameters of config/panda/ros.yaml (policy at 100 Hz)."""
    from ltc_control.control.policy_controller import PolicyController
    from ltc_control.control.stamps import StampClock
    from ltc_control.robots.dynamics import PinocchioDynamics
    from ltc_control.runtime import load_policy

    period = 0.01
    clock = StampClock(period, 0.1, max_age=0.5, future_tolerance=0.05, reset_jump=0.5)
    controller = PolicyController(
        load_policy(policy_file), PANDA.joint_names, clock, PinocchioDynamics(PANDA).gravity, period
    )
    controller.set_target([0.5, 0.0, 0.5])
    return CoreLoop(controller, make_filter(), check)


STAMP_FAULTS = st.sampled_from(
    [("good", 0.01)] * 10
    + [("repeated", 0.0), ("out_of_order", -0.03), ("stale", -1.0), ("future", 1.0)]
    + [("reset", -5.0), ("nan", math.nan), ("gap", 0.5), ("wall_clock", 1.7e9)]
)


@st.composite
def loop_case(draw) -> dict:
    """One input event for the loop: a joint state with a stamp fault, maybe plus an injected
    nominal command, maybe a new target."""
    case = {"joint": draw(joint_message(PANDA.joint_names)), "stamp": draw(STAMP_FAULTS)}
    if draw(st.booleans()):
        names = draw(st.permutations(PANDA.joint_names)) if draw(st.booleans()) else []
        case["nominal"] = (list(names), draw(command_values(len(names))))
    if draw(st.integers(0, 9)) == 0:
        case["target"] = draw(st.lists(st.floats(-2, 2) | BAD_FLOATS, min_size=3, max_size=3))
    return case


def run_case(loop: CoreLoop, case: dict, clock: list[float]) -> list[CaseOutcome]:
    """Apply one generated case to the core loop; `clock` = [now] is advanced in place."""
    kind, offset = case["stamp"]
    clock[0] = 0.5 if kind == "reset" else clock[0] + 0.01
    now = clock[0]
    stamp = {"reset": now, "wall_clock": offset, "nan": math.nan}.get(kind, now + offset - 0.01)
    if "target" in case:
        loop.controller.set_target(case["target"])
    if "nominal" in case:
        loop.injected_nominal(*case["nominal"], now)
    return [loop.joint_state(case["joint"], stamp, now)]
