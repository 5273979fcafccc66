"""SafetyFilter: every torque command passes through a QP that returns the closest safe command.

Promises (tested in test/safety):
- The command is always finite and inside the torque box |u| <= torque_limit_scale * effort.
- mode "filtered": the QP solved and the solution was checked (a certificate, not trust in the
  solver): every hard constraint row holds to 1e-6 (row units), soft rows hold up to their slack.
- mode "fallback": the input was not finite, the QP was infeasible, or the solver failed or
  returned an unchecked answer. The command is then `braking_command(q, v)` = gravity
  compensation minus damping * v, clipped to the torque box (with a non-finite q, the gravity
  torque of the last valid q; with a non-finite v, no damping). `reason` says why, and the event is
  counted in `counters` — never silent.
- Wrong shapes raise SafetyInputError (a programming error, not a runtime event).
Units: q rad, v rad/s, u N·m. The QP is documented in ltc_control.safety.qp, the constraints and
their sampled-data guarantee in ltc_control.safety.constraints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ltc_control.errors import ConfigError, LtcControlError
from ltc_control.robots.description import RobotDescription
from ltc_control.robots.dynamics import RobotDynamics
from ltc_control.safety.config import SafetyConfig
from ltc_control.safety.constraints import BarrierRows, Constraint, TorqueBox, build_constraints
from ltc_control.safety.model import FilterTerms, filter_model_for
from ltc_control.safety.qp import (
    DaqpSolver,
    QPSolution,
    QuadraticProgram,
    RowLayout,
    assemble,
    box_bounds,
)

HARD_ROW_TOLERANCE = 1e-6  # row units (rad/s², m/s², N): accepted violation of a hard row
_TIGHTEN_KEYS = frozenset(
    {
        "torque_limit_scale",
        "velocity_margin",
        "position_margin",
        "workspace_margin",
        "force_max",
        "workspace_box_lower",
        "workspace_box_upper",
    }
)
COUNTER_NAMES = (
    "filtered",
    "fallback",
    "infeasible",
    "solver_failure",
    "invalid_input",
    "slack_used",
)


class SafetyInputError(LtcControlError, ValueError):
    """An argument of the filter has the wrong shape or type."""


@dataclass(frozen=True)
class Diagnostics:
    """What a FilterResult reports beyond the command (see FilterResult)."""

    active_constraints: tuple[str, ...]
    margins: np.ndarray
    slack: np.ndarray
    condition_margins: np.ndarray


@dataclass(frozen=True)
class FilterResult:
    """One filter step. The diagnostics (active set, margins, slack) are computed on first
    access: the 1 kHz loop needs only `command`, a status publisher reads the rest."""

    command: np.ndarray  # (dof,) N·m, inside the torque box
    mode: str  # "filtered" | "fallback"
    reason: str  # empty when filtered; why the fallback happened otherwise
    constraint_names: tuple[str, ...]  # "torque_box" first, then the groups in QP order
    solve_time_s: float  # wall time of the step (model, assembly, solve, certificate check)
    _diagnose: Callable[[], Diagnostics] = field(repr=False, compare=False)

    @cached_property
    def diagnostics(self) -> Diagnostics:
        return self._diagnose()

    @property
    def active_constraints(self) -> tuple[str, ...]:
        """Groups with a row (or bound) active at the solution (empty for a fallback)."""
        return self.diagnostics.active_constraints

    @property
    def margins(self) -> np.ndarray:
        """Per name: distance to the boundary (>= 0: satisfied); units in SafetyFilter."""
        return self.diagnostics.margins

    @property
    def slack(self) -> np.ndarray:
        """Per name: slack used, as a distance in normalised torque (the W-norm change of u, in
        units of the effort limits, its most violated row would have needed); 0 if hard."""
        return self.diagnostics.slack

    @property
    def condition_margins(self) -> np.ndarray:
        """Per name: min over rows of w - G u at the command (>= 0: the CBF condition holds)."""
        return self.diagnostics.condition_margins


class SafetyFilter:
    """Filter torque commands for one robot (see the module docstring).

    `margins` units: torque_box N·m (effort - |u|), joint_velocity rad/s, joint_position rad,
    workspace m (smallest barrier value), end_effector_force N (force_max - ||F(u)||).
    """

    def __init__(
        self,
        robot: RobotDescription,
        config: SafetyConfig,
        dynamics: RobotDynamics | None = None,
        constraints: list[Constraint] | None = None,
    ) -> None:
        self.robot = robot
        self.model = filter_model_for(robot, dynamics)
        self._baseline = config
        self._custom_constraints = constraints
        self.solver = DaqpSolver(warm_start=config.warm_start)
        self._counters = dict.fromkeys(COUNTER_NAMES, 0)
        self._last_gravity = self.model.gravity(robot.home)
        self._configure(config)

    # -- configuration -------------------------------------------------------------------------
    def _configure(self, config: SafetyConfig) -> None:
        config.validate()
        self.config = config
        self.torque_reference = self.robot.limits.effort.copy()
        self.torque_box = TorqueBox(config.torque_limit_scale * self.robot.limits.effort)
        self.constraints = (
            list(self._custom_constraints)
            if self._custom_constraints is not None
            else build_constraints(self.robot, config)
        )
        self.constraint_names = (self.torque_box.name, *(c.name for c in self.constraints))
        self._soft = [c.soft for c in self.constraints]
        self._penalties = [c.slack_penalty for c in self.constraints]
        damping = np.asarray(config.braking_damping, dtype=float)
        if damping.size == 0:
            damping = self.robot.limits.effort / self.robot.limits.velocity
        if damping.shape != (self.robot.dof,):
            raise ConfigError(f"safety config 'braking_damping' must have {self.robot.dof} values")
        self.braking_damping = damping
        _, groups = self.rows(self.robot.home, np.zeros(self.robot.dof))
        self.layout = RowLayout.of(
            groups,
            self._soft,
            self._penalties,
            config.slack_quadratic_penalty,
            config.control_period,
        )
        self.qp_bounds = box_bounds(self.layout, self.torque_reference, self.torque_box.limit)
        self.solver.reset()

    def tighten(self, **changes) -> None:
        """Change limit keys at run time; refuses anything looser than the robot description
        (torque_limit_scale <= 1, margins >= 0) or than the construction-time config for limits
        the description does not have (force_max, workspace box). Raises ConfigError. A filter
        built with a custom constraint list only accepts torque_limit_scale (its constraints
        carry their own limits)."""
        allowed = _TIGHTEN_KEYS if self._custom_constraints is None else {"torque_limit_scale"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ConfigError(f"tighten() accepts only {sorted(allowed)}, got {unknown}")
        try:
            config = SafetyConfig.from_dict({**self.config.to_dict(), **changes})
        except ConfigError as exc:
            raise ConfigError(f"tighten() refused: {exc}") from exc
        base = self._baseline
        if config.force_max > base.force_max:
            raise ConfigError(
                f"tighten() refused: force_max above the configured {base.force_max} N"
            )
        lower_ok = np.all(np.asarray(config.workspace_box_lower) >= base.workspace_box_lower)
        upper_ok = np.all(np.asarray(config.workspace_box_upper) <= base.workspace_box_upper)
        if not (lower_ok and upper_ok):
            raise ConfigError("tighten() refused: workspace box larger than the configured one")
        self._configure(config)

    @property
    def counters(self) -> dict[str, int]:
        return dict(self._counters)

    # -- filtering -------------------------------------------------------------------------------
    def braking_command(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Gravity compensation minus damping * v, clipped to the torque box (N·m)."""
        q, v = np.asarray(q, dtype=float), np.asarray(v, dtype=float)
        if np.all(np.isfinite(q)):
            gravity = self.model.gravity(q)
            if np.all(np.isfinite(gravity)):
                self._last_gravity = gravity
        command = self._last_gravity.copy()
        if np.all(np.isfinite(v)):
            command -= self.braking_damping * v
        limit = self.torque_box.limit
        return np.clip(command, -limit, limit)

    def rows(self, q: np.ndarray, v: np.ndarray) -> tuple[FilterTerms, list[BarrierRows]]:
        """Model terms and every constraint group's rows at (q, v) (used by the spec and layer)."""
        terms = self.model.terms(q, v)
        return terms, [c.rows(terms, q, v) for c in self.constraints]

    def quadratic_program(
        self, terms: FilterTerms, groups: list[BarrierRows], u_nominal: np.ndarray
    ) -> tuple[QuadraticProgram, np.ndarray, np.ndarray, np.ndarray]:
        """The QP of one step, the stacked conditions G u <= w it was built from, and the
        stacked barrier values h."""
        G, w, h = self.layout.stack(groups, terms)
        qp = assemble(G, w, self.layout, u_nominal, self.torque_reference, self.qp_bounds)
        return qp, G, w, h

    def filter(self, q: np.ndarray, v: np.ndarray, u_nominal: np.ndarray) -> FilterResult:
        """The closest command to u_nominal (N·m) that satisfies the constraints at (q, v)."""
        start = time.perf_counter()
        q, v, u_nominal = self._vector(q, "q"), self._vector(v, "v"), self._vector(u_nominal, "u")
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported, not warned
            size = q @ q + v @ v + u_nominal @ u_nominal
        if not np.isfinite(size):  # any nan/inf, or so large that the squares overflow
            self._counters["invalid_input"] += 1
            return self._fallback(
                q, v, None, f"invalid_input: {_non_finite(q, v, u_nominal)}", start
            )
        terms, groups = self.rows(q, v)
        qp, G, w, h = self.quadratic_program(terms, groups, u_nominal)
        solution = self.solver.solve(qp)
        step = _Step(groups, G, w, h)
        if solution.status == "infeasible":
            self._counters["infeasible"] += 1
            reason = "infeasible: no command satisfies every hard constraint"
            return self._fallback(q, v, step, reason, start)
        u = solution.x[: self.robot.dof] * qp.torque_scale
        residual = w - G @ u  # every row's condition value at u (>= 0: holds)
        failure = self._certificate_failure(solution, u, residual)
        if failure:
            self._counters["solver_failure"] += 1
            return self._fallback(q, v, step, f"solver_failure: {failure}", start)
        return self._filtered(solution, u, residual, step, start)

    # -- internals ---------------------------------------------------------------------------------
    def _vector(self, x, name: str) -> np.ndarray:
        if type(x) is np.ndarray and x.dtype == np.float64 and x.shape == (self.robot.dof,):
            return x  # the common case, without a copy
        try:
            array = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as exc:
            raise SafetyInputError(f"{name} must be numbers: {exc}") from exc
        if array.shape != (self.robot.dof,):
            raise SafetyInputError(f"{name} must have shape ({self.robot.dof},), got {array.shape}")
        return array

    def _certificate_failure(self, solution: QPSolution, u: np.ndarray, residual) -> str:
        """Why the solver's answer cannot be trusted ('' if it satisfies every hard row)."""
        if solution.status != "optimal":
            return solution.detail or solution.status
        if not np.isfinite(solution.x @ solution.x):
            return "non-finite solution"
        if np.max(np.abs(u) - self.torque_box.limit * (1 + 1e-12)) > 0.0:
            return "solution outside the torque box"
        violation = -residual[self.layout.hard_rows]
        if violation.size and np.max(violation) > HARD_ROW_TOLERANCE:
            group = self.layout.row_group[self.layout.hard_rows][np.argmax(violation)]
            return f"hard constraint {self.constraints[group].name} violated by the solution"
        return ""

    def _filtered(self, solution: QPSolution, u, residual, step, start) -> FilterResult:
        limit = self.torque_box.limit
        u = np.clip(u, -limit, limit)  # removes round-off (<= 1e-12 relative, checked above)
        slacks = solution.x[self.robot.dof :]
        if slacks.size and np.max(slacks) > HARD_ROW_TOLERANCE:
            self._counters["slack_used"] += 1
        self._counters["filtered"] += 1
        view = self._view()
        return FilterResult(
            command=u,
            mode="filtered",
            reason="",
            constraint_names=self.constraint_names,
            solve_time_s=time.perf_counter() - start,
            _diagnose=lambda: view.diagnose(step, u, residual, solution),
        )

    def _fallback(self, q, v, step, reason: str, start: float) -> FilterResult:
        self._counters["fallback"] += 1
        command = self.braking_command(q, v)
        view = self._view()
        return FilterResult(
            command=command,
            mode="fallback",
            reason=reason,
            constraint_names=self.constraint_names,
            solve_time_s=time.perf_counter() - start,
            _diagnose=lambda: view.diagnose(step, command, None, None),
        )

    def _view(self) -> _ConfiguredView:
        """The configuration-dependent parts the diagnostics need, as they are now (tighten()
        replaces them with new objects, so a result stays consistent with its own step)."""
        return _ConfiguredView(self.torque_box, self.constraints, self.layout, self.robot.dof)


@dataclass(frozen=True)
class _ConfiguredView:
    torque_box: TorqueBox
    constraints: list[Constraint]
    layout: RowLayout
    dof: int

    def diagnose(self, step, u: np.ndarray, residual, solution: QPSolution | None) -> Diagnostics:
        """Active set, margins (barrier groups: smallest h; plain inequalities: their own
        margin), slack and condition margins (smallest row residual); torque box first."""
        n = len(self.constraints) + 1
        if step is None:  # non-finite input: nothing to evaluate
            nan = np.full(n, np.nan)
            return Diagnostics((), nan, np.zeros(n), nan)
        if residual is None:
            residual = step.w - step.G @ u
        box = self.torque_box.margin(u)
        starts = self.layout.starts
        margins = np.concatenate(([box], np.minimum.reduceat(step.h, starts)))
        for j, constraint in enumerate(self.constraints):
            if constraint.relative_degree == 0:
                rows, start = step.groups[j], starts[j]
                margins[j + 1] = constraint.margin(rows, residual[start : start + len(rows.h)])
        condition = np.concatenate(([box], np.minimum.reduceat(residual, starts)))
        slack = np.zeros(n)
        if solution is None:
            return Diagnostics((), margins, slack, condition)
        slack[self.layout.soft_groups + 1] = np.maximum(solution.x[self.dof :], 0.0)
        multipliers = solution.multipliers
        row_active = np.add.reduceat(multipliers[len(solution.x) :] != 0.0, starts)
        active = [self.torque_box.name] if multipliers[: self.dof].any() else []
        active += [c.name for c, hit in zip(self.constraints, row_active, strict=True) if hit]
        return Diagnostics(tuple(active), margins, slack, condition)


@dataclass(frozen=True)
class _Step:
    """One step's constraint rows, kept for the certificate check and the margins."""

    groups: list[BarrierRows]
    G: np.ndarray
    w: np.ndarray
    h: np.ndarray


def _non_finite(q: np.ndarray, v: np.ndarray, u_nominal: np.ndarray) -> str:
    """Which inputs are not finite (an overflowing but finite input is named as such)."""
    inputs = {"q": q, "v": v, "u_nominal": u_nominal}
    bad = [name for name, x in inputs.items() if not np.all(np.isfinite(x))]
    return f"non-finite {', '.join(bad)}" if bad else "inputs too large (overflow)"
