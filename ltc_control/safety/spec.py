"""The filter QP written plainly in cvxpy: the specification the fast path is tested against.

    minimize    ||diag(1/tau_ref) (u - u_nom)||² + sum_j (rho_j s_j + mu s_j²)
    subject to  -tau_limit <= u <= tau_limit                       (torque box, hard)
                kappa (C u + d) + c1 h_dot + c0 h >= 0             (hard groups)
                kappa (C u + d) + c1 h_dot + c0 h >= -n s_j        (soft group j), s >= 0
                n = ||kappa C diag(tau_ref)|| per row: the slack is a distance in normalised torque

It takes the rows' ingredients (C, d, h, h_dot) from the filter's constraint classes, but writes
the gains (the configured ones, or per-step gains as SafetyFilter.filter takes them, used as
given: the spec does not clip), the slack, the scaling and the torque box itself, in torque units, and solves with
Clarabel (interior point) at tight tolerances; so it checks the fast path's assembly (scaling,
row normalisation, slack columns, bounds) and its solver, not the physics of the rows (those are
checked in simulation). Parameters are cvxpy Parameters (DPP): compiled once, ~ms per solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from ltc_control.safety.constraints import condition_coefficients
from ltc_control.safety.filter import SafetyFilter

_CLARABEL_SETTINGS = {
    "tol_gap_abs": 1e-12,
    "tol_gap_rel": 1e-12,
    "tol_feas": 1e-12,
    "max_iter": 400,
    "iterative_refinement_reltol": 1e-15,
    "iterative_refinement_abstol": 1e-15,
    "iterative_refinement_max_iter": 50,
}


@dataclass(frozen=True)
class SpecSolution:
    status: str  # cvxpy status, "optimal" when solved
    command: np.ndarray  # N·m (nan when not solved)
    slack: np.ndarray  # per soft group


class CvxpySpecification:
    """Solve the same QP as `safety_filter` at any state, with cvxpy."""

    def __init__(self, safety_filter: SafetyFilter, solver: str = "CLARABEL") -> None:
        self.safety_filter = safety_filter
        self.solver = solver
        _, groups = safety_filter.rows(safety_filter.robot.home, np.zeros(safety_filter.robot.dof))
        dof = safety_filter.robot.dof
        self.u_nominal = cp.Parameter(dof)
        # Solved in normalised torques z = u / tau_ref (the cost's own scale): Clarabel then meets
        # its tolerances ~100x closer to the exact optimum than in N·m.
        self.z = cp.Variable(dof)
        reference = safety_filter.torque_reference
        self.u = cp.multiply(reference, self.z)
        soft = [c for c in safety_filter.constraints if c.soft]
        self.slack = cp.Variable(len(soft), nonneg=True)
        self._parameters = []
        box = safety_filter.torque_box.limit / reference
        constraints = [self.z <= box, self.z >= -box]
        slack_index = 0
        for rows, constraint in zip(groups, safety_filter.constraints, strict=True):
            # kappa C and kappa d + c1 h' + c0 h as parameters: the gains change per solve.
            kappa_C = cp.Parameter(rows.L.shape)
            offset = cp.Parameter(rows.h.shape)
            norms = cp.Parameter(rows.h.shape, nonneg=True)
            self._parameters.append((kappa_C, offset, norms))
            condition = kappa_C @ self.u + offset
            if constraint.soft:
                constraints.append(condition >= -cp.multiply(norms, self.slack[slack_index]))
                slack_index += 1
            else:
                constraints.append(condition >= 0)
        penalties = np.array([c.slack_penalty for c in soft])
        cost = cp.sum_squares(self.z - cp.multiply(1.0 / reference, self.u_nominal))
        if len(soft):
            mu = safety_filter.config.slack_quadratic_penalty
            cost = cost + penalties @ self.slack + mu * cp.sum_squares(self.slack)
        self.problem = cp.Problem(cp.Minimize(cost), constraints)

    def solve(
        self, q: np.ndarray, v: np.ndarray, u_nominal: np.ndarray, gains=None
    ) -> SpecSolution:
        """Model evaluation, parameter update and solve for one state; `gains` (1/s, in
        SafetyFilter.gain_names order) replace the configured class-K gains."""
        terms, groups = self.safety_filter.rows(q, v)
        dt, reference = (
            self.safety_filter.config.control_period,
            self.safety_filter.torque_reference,
        )
        gains = iter(self.safety_filter.configured_gains if gains is None else gains)
        for rows, (kappa_C, offset, norms) in zip(groups, self._parameters, strict=True):
            group_gains = [float(next(gains)) for _ in range(rows.relative_degree)]
            kappa, c1, c0 = condition_coefficients(rows.relative_degree, group_gains, dt)
            C, d = rows.torque_map(terms)
            kappa_C.value = kappa * C
            offset.value = kappa * d + c1 * rows.h_dot + c0 * rows.h
            row_norms = np.linalg.norm(kappa_C.value * reference, axis=1)
            norms.value = np.maximum(row_norms, 1e-12)  # as qp.assemble
        self.u_nominal.value = np.asarray(u_nominal, dtype=float)
        options = _CLARABEL_SETTINGS if self.solver == "CLARABEL" else {}
        try:
            self.problem.solve(solver=self.solver, **options)
        except cp.SolverError:
            return SpecSolution("solver_error", np.full(len(u_nominal), np.nan), np.array([]))
        if self.problem.status != cp.OPTIMAL:
            return SpecSolution(self.problem.status, np.full(len(u_nominal), np.nan), np.array([]))
        return SpecSolution(self.problem.status, self.u.value.copy(), self.slack.value.copy())
