"""The filter's QP assembled as dense matrices and solved by DAQP (the fast path).

Variables x = [z; s]: z = u / tau_ref (tau_ref = the description's effort limits, so every joint's
torque is measured in units of its own capacity) and one slack s_j >= 0 per soft constraint group.

    minimize    sum_i (z_i - z_nom_i)² + sum_j (rho_j s_j + mu s_j²)     (||u - u_nom||²_W, W = diag(1/tau_ref²))
    subject to  -tau_limit/tau_ref <= z <= tau_limit/tau_ref       (torque box: bounds, never soft)
                (G_g diag(tau_ref) z - w_g) / n_g - [g soft] s_j <= 0   (every row g of group j)
                s >= 0,     n_g = ||G_g diag(tau_ref)||

Each row is divided by its norm n_g in z, so DAQP's absolute tolerances mean the same on every
row and a slack is a distance in z: the (W-norm) torque change, in units of the effort limits, the
row would have needed. Penalties are therefore comparable across constraints whatever the rows'
physical units and magnitudes (the force rows grow without bound near a singular pose; in N they
would outweigh every other soft constraint). rho_j s_j is an exact (L1)
penalty (zero slack unless the constraint cannot be met), mu s_j² keeps the Hessian diagonal and
positive definite, so the solution is unique (what makes "agrees with cvxpy to 1e-6" testable).

Why DAQP (bench/safety.py: the same 300 Panda QPs from closed-loop states, solve only, medians
of three runs on a shared 2-core VM): a dual active-set method for small dense QPs, so the answer
is the exact solution of the final working set (agrees with quadprog to ~1e-14 and with Clarabel
via cvxpy to ~1e-7 N·m), it detects infeasibility, and it was the fastest: 14-18 µs cold vs
quadprog 29-31 µs (Goldfarb-Idnani: no warm start, no infeasibility flag) and proxsuite dense
80-98 µs (which also returned a wrong optimum on some of these problems with eps_abs 1e-9). It is
called through its reusable workspace (daqp.Model: set up once, then update + solve), ~40 % less
overhead than daqp.solve; warm start (DAQP keeps the previous working set) gave 8.5-13 µs and a
lower p99 along trajectories, so it is on by default (config warm_start).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import daqp
import numpy as np

from ltc_control.safety.constraints import BarrierRows, condition_coefficients
from ltc_control.safety.model import FilterTerms

INFINITY = 1e30  # DAQP's "no bound"
_EXIT_OPTIMAL, _EXIT_INFEASIBLE = 1, -1
_ZERO_ROW = 1e-12  # smallest row norm divided by (a zero row stays a zero row)


@dataclass(frozen=True)
class QuadraticProgram:
    """min ½ xᵀHx + fᵀx  s.t.  lower <= x <= upper,  A x <= b;  x = [z; s] as in the module doc."""

    H: np.ndarray
    f: np.ndarray
    A: np.ndarray
    b: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    torque_scale: np.ndarray  # (dof,) u = torque_scale * z
    # (upper; b) in one array, when the assembler keeps them so (saves DAQP a copy per step)
    stacked_upper: np.ndarray | None = None


@dataclass(frozen=True)
class QPSolution:
    status: str  # "optimal" | "infeasible" | "failed"
    x: np.ndarray
    multipliers: np.ndarray  # bounds first, then rows (DAQP order)
    detail: str = ""


@dataclass(frozen=True)
class RowLayout:
    """Where each constraint group's rows sit in the stacked G u <= w (fixed per filter), and the
    per-row coefficients (kappa, c1, c0) of constraints.condition_coefficients."""

    row_group: np.ndarray  # (rows,) group index of each row
    starts: np.ndarray  # (groups,) first row of each group (for np.minimum.reduceat)
    kappa: np.ndarray  # (rows,)
    c1: np.ndarray  # (rows,)
    c0: np.ndarray  # (rows,)
    soft_groups: np.ndarray  # indices of the soft groups, in slack order
    slack_rows: np.ndarray  # (rows,) slack column of each row (-1 for hard rows)
    hard_rows: np.ndarray  # (rows,) bool
    penalties: np.ndarray  # (soft groups,) rho_j: linear cost of the slacks
    slack_columns: np.ndarray  # (rows, soft groups): -1 where a row carries a group's slack
    hessian: np.ndarray  # (n_x, n_x) constant: diag(2, ..., 2, 2 mu, ..., 2 mu)
    relative_degrees: tuple[int, ...]  # per group: how many class-K gains it takes
    dt: float  # s, the control period the coefficients are computed for

    @classmethod
    def of(
        cls,
        groups: list[BarrierRows],
        soft: list[bool],
        penalties: list[float],
        quadratic_penalty: float,
        dt: float,
    ) -> RowLayout:
        sizes = np.array([len(rows.h) for rows in groups])
        row_group = np.repeat(np.arange(len(groups)), sizes)
        coefficients = np.array(
            [condition_coefficients(rows.relative_degree, rows.gains, dt) for rows in groups]
        )[row_group]
        soft_groups = np.flatnonzero(soft)
        slack_of_group = np.full(len(groups), -1)
        slack_of_group[soft_groups] = np.arange(len(soft_groups))
        slack_rows = slack_of_group[row_group]
        slack_columns = -(slack_rows[:, None] == np.arange(len(soft_groups))).astype(float)
        rho = np.asarray(penalties, dtype=float)[soft_groups]
        dof = groups[0].L.shape[1]
        return cls(
            row_group=row_group,
            starts=np.concatenate(([0], np.cumsum(sizes)[:-1])),
            kappa=coefficients[:, 0],
            c1=coefficients[:, 1],
            c0=coefficients[:, 2],
            soft_groups=soft_groups,
            slack_rows=slack_rows,
            hard_rows=slack_rows < 0,
            penalties=rho,
            slack_columns=slack_columns,
            hessian=np.diag(
                np.concatenate((np.full(dof, 2.0), np.full(len(rho), 2.0 * quadratic_penalty)))
            ),
            relative_degrees=tuple(rows.relative_degree for rows in groups),
            dt=dt,
        )

    def coefficients(self, gains: np.ndarray) -> np.ndarray:
        """(3, rows): kappa, c1, c0 of every row for per-step gains (flat, the groups' gains in
        group order, as SafetyFilter.gain_names); the configured gains give exactly (kappa, c1,
        c0) of the layout (the same arithmetic)."""
        values, per_group, start = gains.tolist(), [], 0  # Python floats: ~10x faster here
        for degree in self.relative_degrees:
            per_group.append(
                condition_coefficients(degree, values[start : start + degree], self.dt)
            )
            start += degree
        return np.array(per_group).T[:, self.row_group]

    @cached_property
    def group_rows(self) -> tuple[slice, ...]:
        """Each group's rows in the stacked arrays."""
        ends = [*self.starts[1:], len(self.row_group)]
        return tuple(slice(int(a), int(b)) for a, b in zip(self.starts, ends, strict=True))

    def stack(self, groups: list[BarrierRows], terms: FilterTerms, coefficients=None):
        """All conditions as G u <= w (rows in group order), and the stacked barrier values h:
        G = -kappa L M⁻¹, w = kappa (L a0 + e) + c1 h' + c0 h; (kappa, c1, c0) the layout's, or
        `coefficients` (see `coefficients`) for per-step gains."""
        L = np.concatenate([rows.L for rows in groups])
        e = np.concatenate([rows.e for rows in groups])
        h_dot = np.concatenate([rows.h_dot for rows in groups])
        h = np.concatenate([rows.h for rows in groups])
        kappa, c1, c0 = (self.kappa, self.c1, self.c0) if coefficients is None else coefficients
        kappa_L = kappa[:, None] * L
        G = -(kappa_L @ terms.inverse_mass)
        w = kappa_L @ terms.free_acceleration + kappa * e + c1 * h_dot + c0 * h
        return G, w, h


def assemble(
    G: np.ndarray,
    w: np.ndarray,
    layout: RowLayout,
    u_nominal: np.ndarray,
    torque_scale: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
) -> QuadraticProgram:
    """Dense matrices of the filter QP (see the module docstring) from the stacked G u <= w.
    `bounds` = (lower, upper) of x, constant per filter (torque box, s >= 0)."""
    Gz = G * torque_scale
    # A zero row (0 u <= w) keeps its sign after scaling by _ZERO_ROW: feasible iff w >= 0.
    norms = np.maximum(np.sqrt(np.einsum("ij,ij->i", Gz, Gz)), _ZERO_ROW)
    A = np.concatenate((Gz / norms[:, None], layout.slack_columns), axis=1)
    return QuadraticProgram(
        H=layout.hessian,
        f=np.concatenate((u_nominal * (-2.0 / torque_scale), layout.penalties)),
        A=A,
        b=w / norms,
        lower=bounds[0],
        upper=bounds[1],
        torque_scale=torque_scale,
    )


def box_bounds(layout: RowLayout, torque_scale, torque_limit) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) of x = [z; s]: the torque box in z, s >= 0."""
    box = torque_limit / torque_scale
    n_soft = len(layout.soft_groups)
    return (
        np.concatenate((-box, np.zeros(n_soft))),
        np.concatenate((box, np.full(n_soft, INFINITY))),
    )


class DaqpSolver:
    """DAQP through its reusable workspace (daqp.Model: set up once, then `update` + `solve`,
    no allocation per step). With warm_start the solve starts from the previous working set
    (DAQP's own state); otherwise every solve starts from an empty working set. After an
    infeasible or failed solve the next one always starts cold."""

    def __init__(self, warm_start: bool = False, primal_tol: float = 1e-9) -> None:
        self.warm_start = warm_start
        self.primal_tol = primal_tol
        self._model: daqp.Model | None = None
        self._shape: tuple[int, int] | None = None
        self._cold_next = True

    def reset(self) -> None:
        self._model, self._shape, self._cold_next = None, None, True

    def solve(self, qp: QuadraticProgram) -> QPSolution:
        upper = qp.stacked_upper
        if upper is None:
            upper = np.concatenate((qp.upper, qp.b))
        if self._model is None or self._shape != qp.A.shape:
            self._setup(qp, upper)
        elif self.warm_start and not self._cold_next:
            self._model.update(f=qp.f, A=qp.A, bupper=upper)
        else:
            self._model.update(f=qp.f, A=qp.A, bupper=upper, sense=self._cold)
        x, _, exitflag, info = self._model.solve()
        self._cold_next = exitflag != _EXIT_OPTIMAL
        if exitflag == _EXIT_OPTIMAL:
            return QPSolution("optimal", np.array(x), np.array(info["lam"]))
        status = "infeasible" if exitflag == _EXIT_INFEASIBLE else "failed"
        return QPSolution(status, np.array(x), np.zeros(len(upper)), f"daqp exitflag {exitflag}")

    def _setup(self, qp: QuadraticProgram, upper: np.ndarray) -> None:
        lower = np.concatenate((qp.lower, np.full(len(qp.b), -INFINITY)))
        self._cold = np.zeros(len(upper), dtype=np.int32)  # every constraint inactive
        model = daqp.Model()
        model.setup(qp.H, qp.f, qp.A, upper, lower, self._cold)
        model.settings = {"primal_tol": self.primal_tol}
        self._model, self._shape = model, qp.A.shape
