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
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyFilter, load_safety_config
from ltc_control.safety.filter import HARD_ROW_TOLERANCE
from ltc_control.safety.qp import QPSolution, QuadraticProgram

PANDA = load_robot_description("panda")
PANDA_SAFETY = load_safety_config("panda")
DAQP_EXITFLAGS = {-4: "iteration limit"}  # what a solver "timeout" looks like in DAQP


def make_filter() -> SafetyFilter:
    return SafetyFilter(PANDA, PANDA_SAFETY)


def torque_limit(safety_filter: SafetyFilter) -> np.ndarray:
    return safety_filter.config.torque_limit_scale * safety_filter.robot.limits.effort


def unsafe_reason(
    reference: SafetyFilter,
    q: np.ndarray | None,
    v: np.ndarray | None,
    command: np.ndarray,
    filtered: bool,
) -> str:
    """'' if `command` is safe at (q, v) (see the module docstring), else what is wrong."""
    command = np.asarray(command, dtype=float)
    if command.shape != (reference.robot.dof,):
        return f"command has shape {command.shape}"
    if not np.all(np.isfinite(command)):
        return f"non-finite command {command.tolist()}"
    excess = np.abs(command) - torque_limit(reference)
    if np.max(excess) > 1e-9:
        return f"outside the torque box by {np.max(excess):.3g} N·m"
    if filtered and q is not None and v is not None:
        terms, groups = reference.rows(q, v)
        G, w = reference.layout.stack(groups, terms)
        residual = (w - G @ command)[reference.layout.hard_rows]
        scale = 1.0 + np.abs(w[reference.layout.hard_rows])
        worst = np.min(residual / scale) if residual.size else 0.0
        if worst < -HARD_ROW_TOLERANCE:
            return f"hard CBF row violated by {-worst:.3g} (relative)"
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
    return st.lists(plausible | BAD_FLOATS | ANY_FLOAT, min_size=dof, max_size=dof) | st.lists(
        plausible, min_size=dof, max_size=dof
    )


@st.composite
def joint_message(draw, joint_names: tuple[str, ...], scale: float = 3.0) -> dict:
    """A JointState-like dict: names maybe reordered, missing, duplicated, unknown or empty;
    arrays maybe of the wrong length; values maybe non-finite."""
    names = list(joint_names)
    fault = draw(
        st.sampled_from(
            ["none", "reorder", "missing", "duplicate", "unknown", "empty", "length", "extra"]
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
