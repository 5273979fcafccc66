"""One filter step's QP data and the certificate check, in two interchangeable implementations.

`NumpyAssembly` is the reference: every constraint's `rows()` (constraints.py), stacked and
assembled as qp.py states it. It works with any Constraint, including a user's own classes.
`CompiledAssembly` does the same arithmetic for the built-in constraints in one C call
(`_kernel.c`, built with the package): the reference path spends ~100 µs per Panda step in numpy's
per-call overhead on ~60 x 7 numbers. test/safety/test_assembly.py holds the two to 1e-12.
`assembly_for` picks the compiled one when it can (every constraint a built-in type, the
extension importable) and says which in `.name`.

Both write into buffers they own: the arrays of a step are valid until the next `assemble`;
`record()` returns a copy that outlives it (what a FilterResult keeps for its diagnostics),
behind a function so the 1 kHz loop pays only for the copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ltc_control.safety.constraints import (
    Constraint,
    EndEffectorForceBound,
    JointPositionCBF,
    JointVelocityCBF,
    WorkspaceCBF,
)
from ltc_control.safety.model import FilterTerms
from ltc_control.safety.qp import QuadraticProgram, RowLayout, assemble

try:
    from ltc_control.safety import _kernel
except ImportError:  # a source tree that was not built: the reference path still filters
    _kernel = None

# Certificate outcomes (same numbers as _kernel.c).
CERTIFIED, NON_FINITE, OUTSIDE_BOX, HARD_ROW_VIOLATED = 0, 1, 2, 3
MAX_INPUT = 1e150  # larger q, v are refused: the model's and the QP's numbers could overflow
_BOX_ROUND_OFF = 1e-12  # relative: a solution this far outside the box is clipped, not rejected


# Both assemblies expose after `assemble`: qp, G, w, h and h_dot (the rows' h', for the
# per-step gain floor of SafetyFilter).


@dataclass(frozen=True)
class StepRecord:
    """A step's stacked conditions G u <= w, barrier values h and the residual w - G u at the
    certified command (meaningful only after `certify`)."""

    G: np.ndarray
    w: np.ndarray
    h: np.ndarray
    residual: np.ndarray


class NumpyAssembly:
    """The reference implementation (any constraints)."""

    name = "numpy"

    def __init__(self, constraints: list[Constraint], layout: RowLayout, torque_reference, bounds):
        self.constraints, self.layout = constraints, layout
        self.torque_reference, self.bounds = torque_reference, bounds
        self.command = np.zeros(len(torque_reference))

    @staticmethod
    def usable(q: np.ndarray, v: np.ndarray, u_nominal: np.ndarray, u_bound: np.ndarray) -> bool:
        """q, v finite and below MAX_INPUT in magnitude, |u_nominal| < u_bound (elementwise)."""
        with np.errstate(invalid="ignore"):
            state_ok = np.all(np.abs(np.concatenate((q, v))) < MAX_INPUT)
            return bool(state_ok and np.all(np.abs(u_nominal) < u_bound))

    def assemble(self, terms: FilterTerms, q, v, u_nominal, coefficients=None) -> bool:
        """Builds `qp` for the state; False if a constraint's model is singular there.
        `coefficients` (3, rows): per-step (kappa, c1, c0) instead of the layout's
        (RowLayout.coefficients of per-step gains)."""
        try:
            groups = [c.rows(terms, q, v) for c in self.constraints]
        except np.linalg.LinAlgError:
            return False
        self.G, self.w, self.h = self.layout.stack(groups, terms, coefficients)
        self.h_dot = np.concatenate([rows.h_dot for rows in groups])
        self.residual = None
        self.qp = assemble(
            self.G, self.w, self.layout, u_nominal, self.torque_reference, self.bounds
        )
        return True

    def certify(self, x: np.ndarray, torque_limit: np.ndarray, tolerance: float) -> tuple[int, int]:
        """(outcome, worst hard row or -1) for the solver's x; sets `command` (u clipped to the
        box) and `residual` (w - G u)."""
        if not np.all(np.isfinite(x)):
            return NON_FINITE, -1
        u = x[: len(self.torque_reference)] * self.torque_reference
        self.residual = self.w - self.G @ u
        self.command = np.clip(u, -torque_limit, torque_limit)
        violation = np.where(self.layout.hard_rows, -self.residual, -np.inf)
        worst = int(np.argmax(violation))
        if np.max(np.abs(u) - torque_limit * (1 + _BOX_ROUND_OFF)) > 0.0:
            return OUTSIDE_BOX, -1
        return (HARD_ROW_VIOLATED, worst) if violation[worst] > tolerance else (CERTIFIED, -1)

    def record(self) -> Callable[[], StepRecord]:
        """The step's record, for later: a function returning it (see CompiledAssembly)."""
        record = StepRecord(self.G, self.w, self.h, self.residual)
        return lambda: record


_KINDS = {JointVelocityCBF: 1, JointPositionCBF: 2, WorkspaceCBF: 3, EndEffectorForceBound: 4}


def _parameters(constraint: Constraint) -> np.ndarray:
    """A built-in constraint's numbers in _kernel.c's order."""
    if isinstance(constraint, JointVelocityCBF):
        return constraint.limit
    if isinstance(constraint, JointPositionCBF):
        return np.concatenate((constraint.lower, constraint.upper))
    if isinstance(constraint, WorkspaceCBF):
        return np.concatenate((constraint.normals.ravel(), constraint.offsets))
    return np.concatenate(
        (
            constraint.directions.ravel(),
            [constraint.facet_distance, constraint._DAMPING],
        )
    )


class CompiledAssembly:
    """The same step through _kernel.c (built-in constraints only)."""

    name = "compiled"

    def __init__(self, constraints: list[Constraint], layout: RowLayout, torque_reference, bounds):
        dof, rows = len(torque_reference), len(layout.row_group)
        n_x = len(bounds[0])
        self._ints, self._constants = self._pack(constraints, layout, torque_reference, n_x)
        # The constants with a step's own (kappa, c1, c0) in front: per-step gains change only
        # those 3 x rows numbers, so _kernel.c needs no second entry point.
        self._step_constants = self._constants.copy()
        self._coefficient_count = 3 * rows
        self._A = np.zeros((rows, n_x))
        self._A[:, dof:] = layout.slack_columns
        self._upper = np.concatenate((bounds[1], np.zeros(rows)))
        self._f = np.concatenate((np.zeros(dof), layout.penalties))
        self._work = np.empty(rows * (dof + 2))
        self.h_dot = self._work[rows * (dof + 1) :]  # _kernel.c's work = [L, e, h']
        self._record = np.empty(rows * dof + 3 * rows)  # G, w, h, residual: one copy to keep
        self.G, self.w, self.h, self.residual = self._views(self._record, rows, dof)
        self.command = np.zeros(dof)
        self.usable = _kernel.usable  # as NumpyAssembly.usable
        self.qp = QuadraticProgram(
            H=layout.hessian,
            f=self._f,
            A=self._A,
            b=self._upper[n_x:],
            lower=bounds[0],
            upper=bounds[1],
            torque_scale=torque_reference,
            stacked_upper=self._upper,
        )

    @staticmethod
    def _pack(constraints, layout: RowLayout, torque_reference, n_x: int):
        rows = len(layout.row_group)
        header = [len(torque_reference), rows, n_x, len(constraints)]
        constants = [layout.kappa, layout.c1, layout.c0, torque_reference]
        offset = 3 * rows + len(torque_reference)
        groups = []
        for constraint, rows_of in zip(constraints, layout.group_rows, strict=True):
            parameters = np.asarray(_parameters(constraint), dtype=float)
            groups += [
                _KINDS[type(constraint)],
                rows_of.start,
                rows_of.stop - rows_of.start,
                offset,
            ]
            constants.append(parameters)
            offset += parameters.size
        ints = np.array([*header, *groups, *layout.hard_rows.astype(int)], dtype=np.int32)
        return ints, np.concatenate(constants).astype(float)

    @staticmethod
    def _views(record: np.ndarray, rows: int, dof: int):
        G = record[: rows * dof].reshape(rows, dof)
        w, h, residual = record[rows * dof :].reshape(3, rows)
        return G, w, h, residual

    def assemble(self, terms: FilterTerms, q, v, u_nominal, coefficients=None) -> bool:
        """Writes `qp` (and G, w, h) for the state; False if the contact-force model is
        singular there (J M⁻¹ Jᵀ not positive definite). `coefficients` as NumpyAssembly's."""
        constants = self._constants
        if coefficients is not None:
            constants = self._step_constants
            constants[: self._coefficient_count] = coefficients.ravel()
        singular = _kernel.assemble(
            self._ints,
            constants,
            terms.inverse_mass,
            terms.free_acceleration,
            terms.ee_jacobian,
            terms.ee_position,
            terms.ee_jacobian_dot_v,
            q,
            v,
            u_nominal,
            self._A,
            self._upper,
            self._f,
            self.G,
            self.w,
            self.h,
            self._work,
        )
        return not singular

    def certify(self, x: np.ndarray, torque_limit: np.ndarray, tolerance: float) -> tuple[int, int]:
        """As NumpyAssembly.certify."""
        return _kernel.certify(
            self._ints,
            self._constants,
            x,
            self.G,
            self.w,
            torque_limit,
            tolerance,
            self.command,
            self.residual,
        )

    def record(self) -> Callable[[], StepRecord]:
        """The step's record, for later: one copy now, its views only when asked for."""
        flat, shape = self._record.copy(), self.G.shape
        return lambda: StepRecord(*self._views(flat, *shape))


def assembly_for(
    constraints: list[Constraint], layout: RowLayout, torque_reference, bounds, compiled=True
) -> NumpyAssembly | CompiledAssembly:
    """The compiled assembly when `compiled`, the extension is built and every constraint is
    exactly a built-in type (a subclass may change the rows); the reference otherwise."""
    kind = NumpyAssembly
    if compiled and _kernel is not None and all(type(c) in _KINDS for c in constraints):
        kind = CompiledAssembly
    return kind(constraints, layout, torque_reference, bounds)
