"""SafetyFilter: every torque command passes through a QP that returns the closest safe command.

Promises (tested in test/safety):
- The command is always finite and inside the torque box |u| <= torque_limit_scale * effort.
- mode "filtered": the QP solved and the solution was checked (a certificate, not trust in the
  solver): every hard constraint row holds to 1e-6 (row units), soft rows hold up to their slack.
- mode "fallback": the input was not finite, or absurd (|q|, |v| >= 1e150; a nominal command
  beyond 1000 x the effort limits), the QP was infeasible, the model was singular, or the
  solver failed or returned an unchecked answer. The command is then `braking_command(q, v)` =
  gravity compensation minus damping * v, clipped to the torque box (with a non-finite q, the
  gravity torque of the last valid q; with a non-finite v, no damping). `reason` says why, and
  the event is counted in `counters` — never silent.
- Wrong shapes raise SafetyInputError (a programming error, not a runtime event).
- Per-step class-K gains (BarrierNet mode, `filter(..., gains=...)`, in `gain_names` order): a
  gain is used only inside its safe range: 0 < gain <= learned_gain_max_ratio x the configured
  gain (the cap) and gain x control_period < 1 (the sampled-data bound of
  ltc_control.safety.constraints); any other gain (non-finite, <= 0, beyond the range) and
  every gain of a vector of the wrong length is replaced by the configured gain and counted in
  `counters["gains_replaced"]`. Then a
  relative-degree-2 group's gain_1 is raised where needed (never past the cap) so psi1 = h' +
  gain_1 h >= 0 on its rows: that set is what the HOCBF keeps invariant, and a gain_1 dropping
  while a limit approaches would leave it (counted in `gains_raised`). So no input loosens a row
  past the one the cap allows, and a bad gain leaves its rows as the configured gain makes them
  (given the same way). The result's `gains` are the gains the rows used.
Units: q rad, v rad/s, u N·m. The QP is documented in ltc_control.safety.qp, the constraints and
their sampled-data guarantee in ltc_control.safety.constraints; a step is assembled and its
answer certified by ltc_control.safety.assembly (compiled for the built-in constraints).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ltc_control.errors import ConfigError, LtcControlError
from ltc_control.robots.description import RobotDescription
from ltc_control.robots.dynamics import RobotDynamics
from ltc_control.safety.assembly import (
    HARD_ROW_VIOLATED,
    MAX_INPUT,
    NON_FINITE,
    OUTSIDE_BOX,
    StepRecord,
    assembly_for,
)
from ltc_control.safety.config import SafetyConfig
from ltc_control.safety.constraints import BarrierRows, Constraint, TorqueBox, build_constraints
from ltc_control.safety.model import FilterTerms, filter_model_for
from ltc_control.safety.qp import DaqpSolver, QPSolution, RowLayout, box_bounds

HARD_ROW_TOLERANCE = 1e-6  # row units (rad/s², m/s², N): accepted violation of a hard row
# A nominal command beyond this many times the effort limits is refused as invalid input, not
# filtered: no controller means it, and at ~1e50 the QP's linear term defeats the solver.
NOMINAL_BOUND_RATIO = 1e3
_TIGHTEN_KEYS = frozenset(
    {
        "torque_limit_scale",
        "velocity_margin",
        "position_margin",
        "workspace_margin",
        "force_max",
        "workspace_box_lower",
        "workspace_box_upper",
        "learned_gain_max_ratio",
    }
)
COUNTER_NAMES = (
    "filtered",
    "fallback",
    "infeasible",
    "solver_failure",
    "invalid_input",
    "slack_used",
    "learned_gains",  # steps given per-step gains
    "gains_replaced",  # per-step gain values replaced by the configured gain (see the module doc)
    "gains_raised",  # steps whose HOCBF gain_1 was raised to keep psi1 >= 0 (_raise_inner_gains)
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
    gains: np.ndarray  # class-K gains the rows used, in SafetyFilter.gain_names order (1/s)
    gains_replaced: int  # per-step gains given but replaced by the configured ones this step
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
        compiled: bool = True,
    ) -> None:
        self.robot = robot
        self._compiled = compiled
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
        self._nominal_bound = NOMINAL_BOUND_RATIO * self.torque_reference
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
        self._configure_gains(groups, config)
        self.qp_bounds = box_bounds(self.layout, self.torque_reference, self.torque_box.limit)
        self.assembly = assembly_for(
            self.constraints, self.layout, self.torque_reference, self.qp_bounds, self._compiled
        )
        # What a result's diagnostics need, as configured now (tighten() builds new objects, so
        # a result stays consistent with its own step).
        self._view = _ConfiguredView(self.torque_box, self.constraints, self.layout, self.robot.dof)
        self.solver.reset()

    def _configure_gains(self, groups: list[BarrierRows], config: SafetyConfig) -> None:
        """Gain names, configured gains and cap (BarrierNet mode), and where the gain_1 floor
        looks: each relative-degree-2 group's gain_1 index and rows."""
        self.gain_names = tuple(
            f"{rows.name}.gain_{i + 1}" for rows in groups for i in range(rows.relative_degree)
        )
        self.configured_gains = np.array([g for rows in groups for g in rows.gains], dtype=float)
        self.configured_gains.flags.writeable = False  # results share it
        self.gain_cap = config.learned_gain_max_ratio * self.configured_gains
        self._configured_step = _StepGains(self.configured_gains, 0, None)
        # The largest a raised gain_1 may take: the cap, strictly inside the sampled-data bound
        # (1e-9 keeps gain * dt < 1 in floats).
        self._inner_gain_ceiling = np.minimum(self.gain_cap, (1.0 - 1e-9) / config.control_period)
        gain_starts = np.cumsum([0, *(rows.relative_degree for rows in groups)])
        inner = [
            (int(gain_starts[g]), rows_of)
            for g, (rows, rows_of) in enumerate(zip(groups, self.layout.group_rows, strict=True))
            if rows.relative_degree == 2
        ]
        # Those groups' rows (stacked), and per group its gain_1's index and first row there.
        self._inner_rows = np.array(
            [r for _, rows_of in inner for r in range(rows_of.start, rows_of.stop)], dtype=int
        )
        sizes = [rows_of.stop - rows_of.start for _, rows_of in inner]
        self._inner_gains = (
            np.array([index for index, _ in inner], dtype=int),
            np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(int),
        )

    def tighten(self, **changes) -> None:
        """Change limit keys at run time; refuses anything looser than the robot description
        (torque_limit_scale <= 1, margins >= 0) or than the construction-time config for limits
        the description does not have (force_max, workspace box, learned_gain_max_ratio).
        Raises ConfigError. A filter built with a custom constraint list only accepts
        torque_limit_scale (its constraints carry their own limits)."""
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
        if config.learned_gain_max_ratio > base.learned_gain_max_ratio:
            raise ConfigError(
                "tighten() refused: learned_gain_max_ratio above the configured "
                f"{base.learned_gain_max_ratio}"
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

    def filter(
        self, q: np.ndarray, v: np.ndarray, u_nominal: np.ndarray, gains=None
    ) -> FilterResult:
        """The closest command to u_nominal (N·m) that satisfies the constraints at (q, v); with
        `gains` (1/s, `gain_names` order), the CBF rows use them (see the module docstring)."""
        start = time.perf_counter()
        q, v, u_nominal = self._vector(q, "q"), self._vector(v, "v"), self._vector(u_nominal, "u")
        step = self._configured_step if gains is None else self._learned_step(gains)
        assembly = self.assembly
        if not assembly.usable(q, v, u_nominal, self._nominal_bound):
            self._counters["invalid_input"] += 1
            reason = f"invalid_input: {_invalid_reason(q, v, u_nominal, self._nominal_bound)}"
            return self._fallback(q, v, None, reason, start, step)
        terms = self.model.terms(q, v)
        if not assembly.assemble(terms, q, v, u_nominal, step.coefficients):
            self._counters["solver_failure"] += 1
            reason = "solver_failure: singular contact-force model at this state"
            return self._fallback(q, v, None, reason, start, step)
        if step.coefficients is not None and (raised := self._raise_inner_gains(step)):
            step = raised
            assembly.assemble(terms, q, v, u_nominal, step.coefficients)
        solution = self.solver.solve(assembly.qp)
        if solution.status == "infeasible":
            self._counters["infeasible"] += 1
            reason = "infeasible: no command satisfies every hard constraint"
            return self._fallback(q, v, assembly.record(), reason, start, step)
        failure = self._certificate_failure(solution)
        if failure:
            self._counters["solver_failure"] += 1
            reason = f"solver_failure: {failure}"
            return self._fallback(q, v, assembly.record(), reason, start, step)
        return self._filtered(solution, assembly.command.copy(), assembly.record(), start, step)

    def safe_gains(self, gains) -> tuple[np.ndarray, int]:
        """(gains the rows may use, how many were replaced): a given gain is kept when it is in
        its safe range, 0 < gain <= gain_cap and gain * control_period < 1 (the check
        SafetyConfig makes of configured gains); every other one, and all of a vector of the
        wrong length or type, is replaced by the configured gain (itself always in range)."""
        configured = self.configured_gains
        try:
            given = np.asarray(gains, dtype=float)
        except (TypeError, ValueError):
            return configured.copy(), len(configured)
        if given.shape != configured.shape:
            return configured.copy(), len(configured)
        # NaN compares False (replaced); inf * dt is inf (no warning).
        ok = (given > 0.0) & (given <= self.gain_cap) & (given * self.config.control_period < 1.0)
        if ok.all():
            return given.copy(), 0
        return np.where(ok, given, configured), int(ok.size - np.count_nonzero(ok))

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

    def _certificate_failure(self, solution: QPSolution) -> str:
        """Why the solver's answer cannot be trusted ('' if it satisfies every hard row)."""
        if solution.status != "optimal":
            return solution.detail or solution.status
        outcome, row = self.assembly.certify(solution.x, self.torque_box.limit, HARD_ROW_TOLERANCE)
        if outcome == NON_FINITE:
            return "non-finite solution"
        if outcome == OUTSIDE_BOX:
            return "solution outside the torque box"
        if outcome == HARD_ROW_VIOLATED:
            group = self.layout.row_group[row]
            return f"hard constraint {self.constraints[group].name} violated by the solution"
        return ""

    def _raise_inner_gains(self, step: _StepGains) -> _StepGains | None:
        """The step with every relative-degree-2 group's gain_1 raised to keep psi1 = h' +
        gain_1 h >= 0 on its rows (None if no gain needs it).

        Why: psi1 >= 0 is the set the HOCBF keeps invariant, and gain_1 defines it. With a
        constant gain_1 the rows keep psi1 >= 0 (constraints.py); a gain_1 that drops while the
        arm approaches a limit (h' < 0) could leave it, and h could then cross 0. The floor is
        max(-h'/h) over rows with h > 0; it never exceeds the previous step's gain_1 when that
        step's rows held, so in range it is at most the cap; it is clipped to the cap (and below
        1/control_period) when model error put the state outside psi1 >= 0."""
        if self._inner_rows.size == 0:
            return None
        rows, (indices, starts) = self._inner_rows, self._inner_gains
        h, h_dot = self.assembly.h[rows], self.assembly.h_dot[rows]
        ratio = np.divide(-h_dot, h, out=np.full(rows.size, -np.inf), where=h > 0.0)
        floor = np.maximum.reduceat(ratio, starts)
        if (floor <= step.gains[indices]).all():
            return None
        gains = step.gains.copy()
        gains[indices] = np.maximum(
            gains[indices], np.minimum(floor, self._inner_gain_ceiling[indices])
        )
        self._counters["gains_raised"] += 1
        return _StepGains(gains, step.gains_replaced, self.layout.coefficients(gains))

    def _learned_step(self, gains) -> _StepGains:
        used, replaced = self.safe_gains(gains)
        self._counters["learned_gains"] += 1
        self._counters["gains_replaced"] += replaced
        return _StepGains(used, replaced, self.layout.coefficients(used))

    def _filtered(self, solution: QPSolution, u, record, start, step: _StepGains) -> FilterResult:
        if solution.x[self.robot.dof :].max(initial=0.0) > HARD_ROW_TOLERANCE:
            self._counters["slack_used"] += 1
        self._counters["filtered"] += 1
        view = self._view
        return FilterResult(
            command=u,
            mode="filtered",
            reason="",
            constraint_names=self.constraint_names,
            solve_time_s=time.perf_counter() - start,
            gains=step.gains,
            gains_replaced=step.gains_replaced,
            _diagnose=lambda: view.diagnose(record(), u, solution),
        )

    def _fallback(self, q, v, record, reason: str, start, step: _StepGains) -> FilterResult:
        self._counters["fallback"] += 1
        command = self.braking_command(q, v)
        view = self._view
        return FilterResult(
            command=command,
            mode="fallback",
            reason=reason,
            constraint_names=self.constraint_names,
            solve_time_s=time.perf_counter() - start,
            gains=step.gains,
            gains_replaced=step.gains_replaced,
            _diagnose=lambda: view.diagnose(record() if record else None, command, None),
        )


class _StepGains(NamedTuple):
    """The gains of one filter call (coefficients None: the layout's own, configured)."""

    gains: np.ndarray
    gains_replaced: int
    coefficients: np.ndarray | None


@dataclass(frozen=True)
class _ConfiguredView:
    torque_box: TorqueBox
    constraints: list[Constraint]
    layout: RowLayout
    dof: int

    def diagnose(self, record: StepRecord | None, u: np.ndarray, solution) -> Diagnostics:
        """Active set, margins (each group's own: smallest h for barriers), slack and condition
        margins (smallest row residual); torque box first."""
        n = len(self.constraints) + 1
        if record is None:  # non-finite input or a singular model: nothing to evaluate
            nan = np.full(n, np.nan)
            return Diagnostics((), nan, np.zeros(n), nan)
        residual = record.residual if solution is not None else record.w - record.G @ u
        box = self.torque_box.margin(u)
        starts = self.layout.starts
        margins = [box] + [
            c.margin(record.h[rows], residual[rows])
            for c, rows in zip(self.constraints, self.layout.group_rows, strict=True)
        ]
        condition = np.concatenate(([box], np.minimum.reduceat(residual, starts)))
        slack = np.zeros(n)
        if solution is None:
            return Diagnostics((), np.array(margins), slack, condition)
        slack[self.layout.soft_groups + 1] = np.maximum(solution.x[self.dof :], 0.0)
        multipliers = solution.multipliers
        row_active = np.add.reduceat(multipliers[len(solution.x) :] != 0.0, starts)
        active = [self.torque_box.name] if multipliers[: self.dof].any() else []
        active += [c.name for c, hit in zip(self.constraints, row_active, strict=True) if hit]
        return Diagnostics(tuple(active), np.array(margins), slack, condition)


def _invalid_reason(q, v, u_nominal, nominal_bound) -> str:
    """Why inputs were refused (see SafetyFilter.filter)."""
    inputs = {"q": q, "v": v, "u_nominal": u_nominal}
    bad = [name for name, x in inputs.items() if not np.all(np.isfinite(x))]
    if bad:
        return f"non-finite {', '.join(bad)}"
    if np.any(np.abs(u_nominal) >= nominal_bound):
        return f"u_nominal beyond {NOMINAL_BOUND_RATIO:g} x the effort limits"
    return f"q or v too large (|x| >= {MAX_INPUT:g})"
