"""Position inverse kinematics of the end-effector point, inside shrunken joint limits.

`solve_position(dynamics, point, start, margin)`: damped least squares from `start` (rad), each
step clipped to 0.5 rad and the joints clamped to [lower + margin, upper - margin]; the
nullspace pulls toward the robot's home pose, so among the many answers of a redundant arm it
finds one near the posture the controllers prefer. Returns the joint positions (rad) whose end
effector is within `tolerance` (m) of `point` (m, world frame), or None if it found none: a
local solver's verdict, not a proof that no answer exists.
"""

from __future__ import annotations

import numpy as np

from ltc_control.robots.dynamics import RobotDynamics

MAX_STEP = 0.5  # rad per iteration
DAMPING = 0.05  # m: damped least squares near singular poses
HOME_PULL = 0.1  # fraction of the distance to home per iteration, in the nullspace


def solve_position(
    dynamics: RobotDynamics,
    point: np.ndarray,
    start: np.ndarray,
    margin: float,
    tolerance: float = 0.01,
    iterations: int = 300,
) -> np.ndarray | None:
    robot = dynamics.robot
    lower, upper = robot.limits.lower + margin, robot.limits.upper - margin
    q = np.clip(np.asarray(start, dtype=float), lower, upper)
    for _ in range(iterations):
        position, jacobian = dynamics.kinematics(q)
        error = point - position
        if np.linalg.norm(error) < tolerance:
            return q
        # damped pseudo-inverse J^T (J J^T + d² I)^-1: the step, and the (damped) nullspace
        inverse = jacobian.T @ np.linalg.inv(jacobian @ jacobian.T + DAMPING**2 * np.eye(3))
        step = inverse @ error
        step += (np.eye(robot.dof) - inverse @ jacobian) @ (HOME_PULL * (robot.home - q))
        step *= min(1.0, MAX_STEP / max(np.linalg.norm(step), 1e-12))
        q = np.clip(q + step, lower, upper)
    return None
