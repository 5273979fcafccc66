"""The expert: a model-based operational-space torque controller the policies learn from.

    tau = J^T Lambda (a_task - J' v) + N^T M (a_posture) + tau_limits + h(q, v)

- a_task = kd (x'_des - x') with x'_des = (kp / kd) (x* - x), capped at max_speed (m/s); the
  unreachable target gives a bounded pull instead of a torque spike;
- Lambda = (J M^-1 J^T)^-1 inverted with eigenvalues e -> e / (e² + eps²): near a singular pose
  (arm stretched toward an out-of-reach target) the task stops pushing along the lost direction
  instead of asking for unbounded force (effective mass capped at 1 / (2 eps) kg);
- the posture task pulls toward the robot's home pose in the task's nullspace (N = I - J^+ J with
  the dynamically consistent inverse J^+ = M^-1 J^T Lambda) and damps joint velocities there;
- tau_limits pushes joints back when they come within `limit_margin` (rad) of a position limit,
  so targets that would need a joint beyond its limits are approached, not forced;
- h = Coriolis + gravity from the nominal model (gravity compensation).
The result is clipped to the effort limits (N·m). Targets are m, world frame; for a planar arm
they are first projected onto its motion plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltc_control.robots.dynamics import RobotDynamics
from ltc_control.sim.task import TaskError
from ltc_control.sim.workspace import Workspace


@dataclass(frozen=True)
class ExpertGains:
    task_stiffness: float = 100.0  # 1/s²: task acceleration per m of error
    task_damping: float = 20.0  # 1/s
    max_error: float = 0.15  # m
    max_speed: float = 1.0  # m/s: the end-effector speed the task asks for at most
    joint_damping: float = 4.0  # 1/s, in joint space (keeps light wrist links calm)
    speed_margin: float = 0.8  # fraction of the velocity limit above which joints are braked
    speed_braking: float = 50.0  # 1/s
    posture_stiffness: float = 25.0  # 1/s²
    posture_damping: float = 10.0  # 1/s
    singularity_damping: float = 0.02  # eps, 1/kg (see module docstring)
    limit_margin: float = 0.2  # rad
    limit_stiffness: float = 200.0  # 1/s² inside the margin

    def __post_init__(self) -> None:
        for key, value in vars(self).items():
            if not (np.isfinite(value) and value >= 0.0):
                raise TaskError(f"expert gain {key} must be finite and >= 0, got {value}")


class OperationalSpaceExpert:
    """Torque for the current state and target. Stateless; one call per control step."""

    def __init__(self, dynamics: RobotDynamics, gains: ExpertGains | None = None) -> None:
        self.dynamics = dynamics
        self.robot = dynamics.robot
        self.gains = gains if gains is not None else ExpertGains()
        self.workspace = Workspace.of(dynamics)

    def torque(self, q: np.ndarray, v: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Joint torques (N·m), inside the effort limits, toward `target` (m, world)."""
        target = np.asarray(target, dtype=float)
        if target.shape != (3,) or not np.all(np.isfinite(target)):
            raise TaskError(f"target must be 3 finite numbers (m), got {target!r}")
        g = self.gains
        terms = self.dynamics.terms(q, v)
        jacobian, mass = terms.ee_jacobian, terms.mass_matrix
        error = self.workspace.project(target) - terms.ee_position
        error *= min(1.0, g.max_error / max(np.linalg.norm(error), 1e-12))
        desired_velocity = g.task_stiffness / max(g.task_damping, 1e-9) * error
        desired_velocity *= min(1.0, g.max_speed / max(np.linalg.norm(desired_velocity), 1e-12))
        task_acceleration = g.task_damping * (desired_velocity - jacobian @ v)
        mass_inv_jt = np.linalg.solve(mass, jacobian.T)
        task_inertia = _damped_inverse(jacobian @ mass_inv_jt, g.singularity_damping)
        force = task_inertia @ (task_acceleration - terms.ee_jacobian_dot_v)
        nullspace = np.eye(self.robot.dof) - jacobian.T @ (mass_inv_jt @ task_inertia).T
        posture = g.posture_stiffness * (self.robot.home - q) - g.posture_damping * v
        tau = jacobian.T @ force + nullspace @ (mass @ posture) + terms.bias
        tau += mass @ (self._limit_acceleration(q, v) - g.joint_damping * v)
        effort = self.robot.limits.effort
        return np.clip(tau, -effort, effort)

    def _limit_acceleration(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Push back from position limits (critically damped) and brake joints near their
        velocity limits."""
        g, limits = self.gains, self.robot.limits
        below = np.maximum(limits.lower + g.limit_margin - q, 0.0)
        above = np.maximum(q - (limits.upper - g.limit_margin), 0.0)
        inside_margin = (below > 0.0) | (above > 0.0)
        damping = np.where(inside_margin, 2.0 * np.sqrt(g.limit_stiffness), 0.0)
        push = g.limit_stiffness * (below - above) - damping * v
        excess = np.maximum(np.abs(v) - g.speed_margin * limits.velocity, 0.0)
        return push - g.speed_braking * excess * np.sign(v)


def _damped_inverse(matrix: np.ndarray, epsilon: float) -> np.ndarray:
    """Inverse of a symmetric positive semi-definite matrix, bounded near its singular directions."""
    eigenvalues, vectors = np.linalg.eigh(matrix)
    eigenvalues = np.maximum(eigenvalues, 0.0)
    return (vectors * (eigenvalues / (eigenvalues**2 + epsilon**2))) @ vectors.T
