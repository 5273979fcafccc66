"""The safety filter's constraints: each a small class that turns one state into linear rows in u.

Every constraint except the torque box yields `BarrierRows`: m scalar conditions on the torque u

    kappa * (C u + d) + c1 * h_dot + c0 * h  >=  0          (one row per entry of h)

where C u + d is the highest time derivative of the barrier h that u reaches. It is linear in the
joint acceleration, L a + e, and a = M⁻¹ u + a0, so C = L M⁻¹ and d = L a0 + e: a constraint
only states L, e, h and h' (for the joint constraints L is constant). (kappa, c1, c0) follow from
the relative degree r and the class-K gains:

    r = 0  plain inequality                  C u + d >= 0                  (1, 0, 0)
    r = 1  CBF, gain a                       h' + a h >= 0                 (1, 0, a)
    r = 2  HOCBF, gains a1, a2               psi1 = h' + a1 h, psi1' + a2 psi1 >= 0
                                             (1 + a1 dt / 2, a1 + a2, a1 a2)

Sampled-data (zero-order hold, period dt) guarantee, stated for the joint constraints: with u held
for dt, a is constant over the step (M, h frozen at the sample), so v and q evolve exactly as
v + a t and q + v t + a t²/2. Then
- r = 1 (h affine in v): the row is exactly h[k+1] >= (1 - a dt) h[k], so h[k] >= 0 for all k
  (gain*dt < 1 is enforced by SafetyConfig, and by SafetyFilter for per-step gains) and, h being
  affine in t, h >= 0 between samples.
- r = 2 (h affine in q): psi1[k+1] = psi1[k] + dt (kappa h'' + a1 h') exactly, with
  kappa = 1 + a1 dt / 2, so the row is exactly psi1[k+1] >= (1 - a2 dt) psi1[k]: psi1 >= 0 at
  every sample. Between samples h >= 0 too: q is quadratic in t, psi1 is concave in t when the
  step accelerates toward the limit (so >= 0 on the interval), otherwise h(t) >= h[k] - v t >=
  (1 - a1 t) h[k] >= 0.
The workspace rows use the same kappa: the end-effector height is not quadratic in t (the arm's
kinematics are nonlinear), so there the sampled guarantee holds to second order in dt and the
O(dt³) remainder, like model mismatch, joint friction and M varying within a step, is absorbed by
the configured margins (measured in ltc_control.evaluation.safety_episodes). An acceleration
error delta (model mismatch) shifts a relative-degree-1 barrier's equilibrium by delta / gain:
hence the high velocity gain (100/s). All of this holds while the QP is feasible; the torque box
can make the hard rows infeasible (a joint too fast too close to its limit), and then the filter
brakes and reports it (SafetyFilter).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ltc_control.robots.description import RobotDescription
from ltc_control.safety.config import SafetyConfig
from ltc_control.safety.model import FilterTerms


@dataclass(frozen=True)
class BarrierRows:
    """One constraint group's conditions at one state (see the module docstring)."""

    name: str
    relative_degree: int
    gains: tuple[float, ...]
    L: np.ndarray  # (m, dof): highest derivative = L a + e, a the joint acceleration
    e: np.ndarray  # (m,)
    h: np.ndarray  # (m,) barrier values (zeros for r = 0)
    h_dot: np.ndarray  # (m,) (zeros for r < 2)

    def torque_map(self, terms: FilterTerms) -> tuple[np.ndarray, np.ndarray]:
        """(C, d): highest derivative = C u + d."""
        return self.L @ terms.inverse_mass, self.L @ terms.free_acceleration + self.e


def condition_coefficients(relative_degree: int, gains, dt: float):
    """(kappa, c1, c0) of the row for a relative degree and gains; works on floats and tensors."""
    if relative_degree == 0:
        return 1.0, 0.0, 0.0
    if relative_degree == 1:
        return 1.0, 0.0, gains[0]
    gain_1, gain_2 = gains
    return 1.0 + 0.5 * gain_1 * dt, gain_1 + gain_2, gain_1 * gain_2


def inequality_rows(
    rows: BarrierRows, terms: FilterTerms, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """The conditions as G u <= w (reference form; the filter stacks all groups at once)."""
    kappa, c1, c0 = condition_coefficients(rows.relative_degree, rows.gains, dt)
    C, d = rows.torque_map(terms)
    return -kappa * C, kappa * d + c1 * rows.h_dot + c0 * rows.h


class Constraint(Protocol):
    """A composable constraint group of the QP (hard unless `soft`)."""

    name: str
    soft: bool
    slack_penalty: float
    relative_degree: int  # 0: plain inequality in u; 1, 2: (high-order) CBF

    def rows(self, terms: FilterTerms, q: np.ndarray, v: np.ndarray) -> BarrierRows: ...

    def margin(self, h: np.ndarray, condition: np.ndarray) -> float:
        """Distance to the boundary (>= 0 means satisfied), given the rows' barrier values h and
        condition values kappa (C u + d) + c1 h' + c0 h at the command."""
        ...


@dataclass(frozen=True)
class TorqueBox:
    """|u_i| <= limit_i (N·m): bounds of the QP, always hard, never relaxed."""

    limit: np.ndarray
    name: str = "torque_box"

    def margin(self, u: np.ndarray) -> float:
        return float((self.limit - np.abs(u)).min())


class _BarrierConstraint:
    """Shared bookkeeping: name, softness, gains; the state margin is the smallest barrier value."""

    relative_degree = 2

    def __init__(self, name: str, gains: tuple[float, ...], soft: bool, penalty: float) -> None:
        self.name, self.gains, self.soft, self.slack_penalty = name, gains, soft, penalty

    def _rows(self, L, e, h, h_dot) -> BarrierRows:
        return BarrierRows(self.name, self.relative_degree, self.gains, L, e, h, h_dot)

    def margin(self, h: np.ndarray, condition: np.ndarray) -> float:
        return float(h.min())


class JointVelocityCBF(_BarrierConstraint):
    """|v_i| <= limit_i (rad/s): h = limit ∓ v, h' = ∓a, relative degree 1. Rows: upper, lower."""

    relative_degree = 1

    def __init__(self, limit: np.ndarray, gain: float, soft=False, penalty=1e4) -> None:
        super().__init__("joint_velocity", (gain,), soft, penalty)
        self.limit = np.asarray(limit, dtype=float)
        dof = len(self.limit)
        self._L, self._zeros = np.vstack((-np.eye(dof), np.eye(dof))), np.zeros(2 * dof)

    def rows(self, terms: FilterTerms, q: np.ndarray, v: np.ndarray) -> BarrierRows:
        h = np.concatenate((self.limit - v, self.limit + v))
        return self._rows(self._L, self._zeros, h, self._zeros)


class JointPositionCBF(_BarrierConstraint):
    """lower_i <= q_i <= upper_i (rad): h = distance to the limit, relative degree 2 (HOCBF)."""

    def __init__(self, lower, upper, gains: tuple[float, float], soft=False, penalty=1e4) -> None:
        super().__init__("joint_position", gains, soft, penalty)
        self.lower, self.upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        dof = len(self.lower)
        self._L, self._zeros = np.vstack((-np.eye(dof), np.eye(dof))), np.zeros(2 * dof)

    def rows(self, terms: FilterTerms, q: np.ndarray, v: np.ndarray) -> BarrierRows:
        h = np.concatenate((self.upper - q, q - self.lower))
        return self._rows(self._L, self._zeros, h, np.concatenate((-v, v)))


class WorkspaceCBF(_BarrierConstraint):
    """End-effector half-spaces n_k · p >= c_k (m), relative degree 2 (HOCBF).

    h = N p - c, h' = N J v, h'' = N (J a + J'v): L = N J, e = N J'v.
    `for_robot` places the planes so the end-effector contact sphere (radius from the robot
    description) stays above the table top and inside the configured box, with a margin.
    """

    def __init__(self, normals, offsets, gains: tuple[float, float], soft=True, penalty=1e2):
        super().__init__("workspace", gains, soft, penalty)
        self.normals = np.asarray(normals, dtype=float).reshape(-1, 3)
        self.offsets = np.asarray(offsets, dtype=float).reshape(-1)

    @classmethod
    def for_robot(cls, robot: RobotDescription, config: SafetyConfig) -> WorkspaceCBF:
        inset = robot.end_effector.contact_radius + config.workspace_margin
        lower = np.asarray(config.workspace_box_lower) + inset
        upper = np.asarray(config.workspace_box_upper) - inset
        normals, offsets = [*np.eye(3), *-np.eye(3)], [*lower, *-upper]
        if config.workspace_table:
            normals.append(np.array([0.0, 0.0, 1.0]))
            offsets.append(robot.table.height + inset)
        return cls(
            normals,
            offsets,
            (config.workspace_gain_1, config.workspace_gain_2),
            config.workspace_soft,
            config.workspace_slack_penalty,
        )

    def rows(self, terms: FilterTerms, q: np.ndarray, v: np.ndarray) -> BarrierRows:
        N = self.normals
        NJ = N @ terms.ee_jacobian
        h = N @ terms.ee_position - self.offsets
        return self._rows(NJ, N @ terms.ee_jacobian_dot_v, h, NJ @ v)


class EndEffectorForceBound:
    """||F|| <= force_max (N), F the force the end effector exerts on a rigid environment.

    Contact model: a rigid, sticking point contact at the end-effector point that blocks its three
    translations (no rotation blocked; friction large enough to stick), with the end effector at
    rest against it (v = 0 at the contact point, so J'v = 0). The contact force F is what makes
    the point's acceleration zero under the command u:

        F = Λ J M⁻¹ (u - h - D v) = Λ J a,   Λ = (J M⁻¹ Jᵀ + ε tr(J M⁻¹ Jᵀ) I)⁻¹

    with a = M⁻¹ u + a0 the joint acceleration the command would produce. This is the
    quasi-static pressing force (exactly MuJoCo's for a sticking contact at rest) and it is linear
    in u. The velocity term Λ J'v of a contact made at speed is left out on purpose: it is an
    impact force no torque can change within a step (near a stretched pose it is unbounded), so as
    a constraint it could only be violated; impacts are prevented by the workspace barrier, which
    brings the approach speed to zero at the surface. Out of contact F is the force the arm would
    press with if blocked now, so the bound also limits the Cartesian acceleration let through.
    ε = 1e-4 changes Λ by <= 1e-4 relative in the directions the arm moves freely and caps the
    effective mass at 1 / (ε tr(J M⁻¹ Jᵀ)) along a direction lost at a singular pose (where the
    exact Λ is infinite). In a direction the arm cannot move at all (out of the double pendulum's
    plane) J has an exactly zero row, so F gets no component there.
    The ball ||F|| <= force_max is inner-approximated by the polytope N F <= r with the 26
    directions of the 3x3x3 grid: r is chosen so every vertex of the polytope lies on or inside
    the ball (exact vertex enumeration), so satisfying the rows implies ||F|| <= force_max. The
    polytope keeps the problem a QP; its facets sit at 0.887 force_max (circumradius 1.128).
    """

    relative_degree = 0
    _DAMPING = 1e-4  # relative regularisation of J M⁻¹ Jᵀ: caps Λ at 1 / (ε tr J M⁻¹ Jᵀ)
    _eye = np.eye(3)

    def __init__(self, force_max: float, soft=True, penalty=1e2) -> None:
        self.name, self.soft, self.slack_penalty = "end_effector_force", soft, penalty
        self.force_max = float(force_max)
        grid = np.array([d for d in itertools.product((-1.0, 0.0, 1.0), repeat=3) if any(d)])
        self.directions = grid / np.linalg.norm(grid, axis=1, keepdims=True)
        self.facet_distance = self.force_max / polytope_circumradius(self.directions)
        self._from_facets = np.linalg.pinv(self.directions)  # F = N⁺ (N F): N has full rank
        self._zeros = np.zeros(len(self.directions))
        self._neg_directions = -self.directions
        self._facets = np.full(len(self.directions), self.facet_distance)

    def operational_mass(self, terms: FilterTerms) -> np.ndarray:
        """Λ (kg): (J M⁻¹ Jᵀ + ε tr(J M⁻¹ Jᵀ) I)⁻¹, ε = 1e-4 (see the class docstring)."""
        return np.linalg.inv(self._regularised(terms))

    def _regularised(self, terms: FilterTerms) -> np.ndarray:
        J = terms.ee_jacobian
        inverse = J @ terms.inverse_mass @ J.T
        return inverse + (self._DAMPING * np.trace(inverse)) * self._eye

    def rows(self, terms: FilterTerms, q: np.ndarray, v: np.ndarray) -> BarrierRows:
        # F = Λ J a: the rows r - N F >= 0 have L = -N Λ J and e = r.
        L = self._neg_directions @ np.linalg.solve(self._regularised(terms), terms.ee_jacobian)
        return BarrierRows(self.name, 0, (), L, self._facets, self._zeros, self._zeros)

    def margin(self, h: np.ndarray, condition: np.ndarray) -> float:
        force = self._from_facets @ (self.facet_distance - condition)  # condition = r - N F
        return self.force_max - math.sqrt(force @ force)


def polytope_circumradius(directions: np.ndarray) -> float:
    """Largest ||x|| over the vertices of {x : directions @ x <= 1} (3-D, by enumeration)."""
    best = 0.0
    for triple in itertools.combinations(range(len(directions)), 3):
        normals = directions[list(triple)]
        if abs(np.linalg.det(normals)) < 1e-9:
            continue
        vertex = np.linalg.solve(normals, np.ones(3))
        if np.all(directions @ vertex <= 1.0 + 1e-9):
            best = max(best, float(np.linalg.norm(vertex)))
    return best


def build_constraints(robot: RobotDescription, config: SafetyConfig) -> list[Constraint]:
    """The constraint groups a config enables, in a fixed order (the torque box is separate)."""
    limits = robot.limits
    constraints: list[Constraint] = []
    if config.velocity_enabled:
        constraints.append(
            JointVelocityCBF(
                limits.velocity - config.velocity_margin,
                config.velocity_gain,
                config.velocity_soft,
                config.velocity_slack_penalty,
            )
        )
    if config.position_enabled:
        constraints.append(
            JointPositionCBF(
                limits.lower + config.position_margin,
                limits.upper - config.position_margin,
                (config.position_gain_1, config.position_gain_2),
                config.position_soft,
                config.position_slack_penalty,
            )
        )
    if config.workspace_enabled:
        constraints.append(WorkspaceCBF.for_robot(robot, config))
    if config.force_enabled:
        constraints.append(
            EndEffectorForceBound(config.force_max, config.force_soft, config.force_slack_penalty)
        )
    return constraints
