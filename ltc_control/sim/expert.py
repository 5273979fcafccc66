"""The expert: a model-based operational-space torque controller the policies learn from.

One law turns a task acceleration a_task (m/s², end effector, world frame) into joint torque
(OperationalSpaceLaw; a policy with a task-space action will use the same one):

    tau = J^T Lambda (a_task - J' v) + N^T M a_posture + p (I - N^T) M a_pull + tau_limits + h

- Lambda = (J M^-1 J^T)^-1 inverted with eigenvalues e -> e / (e² + eps²): near a singular pose
  (arm stretched toward an out-of-reach target) the task stops pushing along the lost direction
  instead of asking for unbounded force (effective mass capped at 1 / (2 eps) kg);
- the posture task pulls toward a posture (home, or the expert's goal pose) and damps joint
  velocities in the task's nullspace (N = I - J^+ J with the dynamically consistent inverse
  J^+ = M^-1 J^T Lambda), and a share p of a stiffer pull toward the same posture acts in the
  task's range: + p (I - N^T) M a_pull. p = 0 keeps the posture out of the task's way; p = 1
  is a full joint-space pull, which moves the arm where the Jacobian has lost a direction (a
  2-link arm crossing its straight pose has no nullspace for the posture to act in);
- tau_limits pushes joints back when they come within `limit_margin` (rad) of a position limit,
  so targets that would need a joint beyond its limits are approached, not forced; it also
  damps joints (`joint_damping`) and brakes them near their velocity limits;
- h = Coriolis + gravity from the nominal model (gravity compensation).
The result is clipped to the effort limits (N·m).

The expert chooses a_task = kd (x'_des - x') with x'_des = (kp / kd) e, capped at max_speed
(m/s), plus `velocity_feedforward` times the target's velocity when it is told it (privileged:
the simulated task knows it; a policy sees only the stream of target positions and has to infer
the motion, which is what its memory is for; without the feedforward a target moving at speed s
is tracked s kd / kp behind); toward an unreachable target e is capped at max_error (m): a
bounded pull. For a large
motion the straight line to the target can run a joint into its limit or
the arm through its base, and the law then stalls short of a target it could reach (measured:
the old expert missed 22 % of reachable Panda holds this way and by moving too slowly). So the
expert first solves inverse kinematics for a goal pose that reaches the target with every joint
`goal_margin` (rad) inside its limits (robots.inverse_kinematics, from the current pose, the
workspace sample nearest the target, then home), and far from the target (> path_blend m) follows
the goal pose's joint path: e = J (q_goal - q), blended into the Cartesian error e = x* - x as
the distance shrinks; the posture task pulls toward the goal pose. An arm without spare joints
(the 2-link pendulum) has one pose per elbow branch for a target and no nullspace for the
posture, so it follows the joint path until 2 cm from the target (path_blend_no_nullspace) and
its posture pull acts in full joint space with the same share p (times goal_joint_pull, at most
1). Measured (pendulum, 40 episodes, filter at 1 kHz, within 5 / 2 cm): with the Panda's 0.3 m
blend and no joint-space pull the arm sat near straight for ~1 s when the goal pose lay across
it, 87.5 / 81.9 % of holds reached; 0.02 m blend and the pull at the posture gains 97.2 / 87.5 %
(the arm still in transit when short holds ended); with the stiffer pull 97.2 / 95.8 %. The
Panda reached fewer with a 0.02 or 0.1 m blend (94 %, 40 episodes, filter per sample) or with
the joint-space pull (98.6 % instead of 100 %). Targets below the table or out of reach
(sim.task.label_target) get no goal pose (IK knows nothing of the table): e = x* - x, posture
home; below the table the expert aims at the table top above the target (measured: pushing
toward the point under the table pressed with 73 N and friction held the hand 7.6 cm short). The goal pose is solved again only when the target moves (a moving
target warm-starts from the last goal). Targets are m, world frame; for a planar arm they are
first projected onto its motion plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltc_control.robots.dynamics import DynamicsTerms, RobotDynamics
from ltc_control.robots.inverse_kinematics import solve_position
from ltc_control.sim.task import TaskError, label_target
from ltc_control.sim.workspace import Workspace

_WARM_START_DISTANCE = 0.05  # m: a target that moved less than this starts IK from the last goal
_TABLE_PRESS = 0.005  # m: how far below the table top the expert aims for a target below it


@dataclass(frozen=True)
class ExpertGains:
    task_stiffness: float = 150.0  # 1/s²: task acceleration per m of error
    task_damping: float = 20.0  # 1/s
    max_error: float = 0.15  # m: the error the task sees at most without a goal pose
    max_speed: float = 2.0  # m/s: the end-effector speed the task asks for at most
    velocity_feedforward: float = 1.0  # share of a reachable target's velocity added to x'_des
    joint_damping: float = 4.0  # 1/s, in joint space (keeps light wrist links calm)
    speed_margin: float = 0.8  # fraction of the velocity limit above which joints are braked
    speed_braking: float = 50.0  # 1/s
    posture_stiffness: float = 25.0  # 1/s²
    posture_damping: float = 10.0  # 1/s
    singularity_damping: float = 0.02  # eps, 1/kg (see module docstring)
    limit_margin: float = 0.1  # rad
    limit_stiffness: float = 200.0  # 1/s² inside the margin
    goal_margin: float = 0.23  # rad: the goal pose keeps joints this far inside their limits
    path_blend: float = 0.3  # m: farther from the target, follow the goal pose's joint path
    path_blend_no_nullspace: float = 0.02  # m: the same for an arm without spare joints
    goal_joint_pull: float = 1.0  # ... and the share of its goal-pose pull in full joint space
    joint_pull_stiffness: float = 100.0  # 1/s²: that pull, in the task's range
    joint_pull_damping: float = 20.0  # 1/s

    def __post_init__(self) -> None:
        for key, value in vars(self).items():
            if not (np.isfinite(value) and value >= 0.0):
                raise TaskError(f"expert gain {key} must be finite and >= 0, got {value}")


class OperationalSpaceLaw:
    """Joint torque for a task acceleration and a nullspace posture (module docstring)."""

    def __init__(self, dynamics: RobotDynamics, gains: ExpertGains | None = None) -> None:
        self.dynamics = dynamics
        self.robot = dynamics.robot
        self.gains = gains if gains is not None else ExpertGains()

    def torque(
        self,
        q: np.ndarray,
        v: np.ndarray,
        task_acceleration: np.ndarray,
        posture: np.ndarray,
        terms: DynamicsTerms,
        joint_pull: float = 0.0,
    ) -> np.ndarray:
        """Joint torques (N·m), inside the effort limits; `terms` = dynamics.terms(q, v).
        `joint_pull` (0..1): the share of the stiffer pull toward `posture` acting in the
        task's range (module docstring)."""
        return self.command(self.affine(q, v, posture, terms, joint_pull), task_acceleration)

    def command(
        self, affine: tuple[np.ndarray, np.ndarray], task_acceleration: np.ndarray
    ) -> np.ndarray:
        """A task_acceleration + b of the law's `affine` form, clipped to the effort limits."""
        task_map, rest = affine
        effort = self.robot.limits.effort
        return np.clip(task_map @ np.asarray(task_acceleration, float) + rest, -effort, effort)

    def affine(
        self,
        q: np.ndarray,
        v: np.ndarray,
        posture: np.ndarray,
        terms: DynamicsTerms,
        joint_pull: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The law before its effort clip as (A, b): tau = A a_task + b, A = J^T Lambda (dof, 3)
        N·m per m/s², b (dof,) N·m: everything that does not depend on the task acceleration.
        BarrierNet training differentiates the command through it."""
        g = self.gains
        jacobian, mass = terms.ee_jacobian, terms.mass_matrix
        mass_inv_jt = np.linalg.solve(mass, jacobian.T)
        task_inertia = _damped_inverse(jacobian @ mass_inv_jt, g.singularity_damping)
        task_map = jacobian.T @ task_inertia
        nullspace = np.eye(self.robot.dof) - jacobian.T @ (mass_inv_jt @ task_inertia).T
        posture_acceleration = g.posture_stiffness * (posture - q) - g.posture_damping * v
        pull_acceleration = g.joint_pull_stiffness * (posture - q) - g.joint_pull_damping * v
        range_space = np.eye(self.robot.dof) - nullspace
        rest = -task_map @ terms.ee_jacobian_dot_v + nullspace @ (mass @ posture_acceleration)
        rest += terms.bias + joint_pull * (range_space @ (mass @ pull_acceleration))
        rest += mass @ (self._limit_acceleration(q, v) - g.joint_damping * v)
        return task_map, rest

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


class OperationalSpaceExpert:
    """Torque for the current state and target, one call per control step. Remembers the goal
    pose of the last target (`reset` forgets it: a new episode)."""

    def __init__(self, dynamics: RobotDynamics, gains: ExpertGains | None = None) -> None:
        self.law = OperationalSpaceLaw(dynamics, gains)
        self.dynamics, self.robot, self.gains = dynamics, dynamics.robot, self.law.gains
        self.workspace = Workspace.of(dynamics)
        # Spare joints: the posture has a nullspace to act in, and a joint-space pull only
        # fights the Cartesian task (measured, Panda: one hold in 72 fewer reached).
        spare_joints = self.robot.dof > (3 if self.workspace.plane is None else 2)
        g = self.gains
        self._path_blend = g.path_blend if spare_joints else g.path_blend_no_nullspace
        self._joint_pull = 0.0 if spare_joints else g.goal_joint_pull
        self.reset()

    def reset(self) -> None:
        self._goal_target: np.ndarray | None = None
        self._goal: np.ndarray | None = None
        self._last_situation: tuple | None = None

    def torque(
        self,
        q: np.ndarray,
        v: np.ndarray,
        target: np.ndarray,
        target_velocity: np.ndarray | None = None,
    ) -> np.ndarray:
        """Joint torques (N·m), inside the effort limits, toward `target` (m, world) moving at
        `target_velocity` (m/s; None: not known)."""
        acceleration = self.task_acceleration(q, v, target, target_velocity)
        return self.task_torque(q, v, acceleration, target)

    def task_acceleration(
        self,
        q: np.ndarray,
        v: np.ndarray,
        target: np.ndarray,
        target_velocity: np.ndarray | None = None,
    ) -> np.ndarray:
        """The expert's task acceleration (m/s², world frame) toward `target` (m, world), with
        the feedforward of `target_velocity` (m/s) when given: what a policy with an
        ee_acceleration action learns."""
        g = self.gains
        error = self.task_error(q, v, target)
        _, terms, goal = self._situation(q, v, target)
        desired_velocity = g.task_stiffness / max(g.task_damping, 1e-9) * error
        desired_velocity *= min(1.0, g.max_speed / max(np.linalg.norm(desired_velocity), 1e-12))
        if target_velocity is not None and goal is not None:  # reachable targets only
            desired_velocity = desired_velocity + g.velocity_feedforward * np.asarray(
                target_velocity, dtype=float
            )
        return g.task_damping * (desired_velocity - terms.ee_jacobian @ v)

    def task_error(self, q: np.ndarray, v: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The error (m, world frame) the expert's task acts on: target - end effector, far from
        a reachable target blended with its goal pose's joint path J (q_goal - q), capped at
        max_error toward an unreachable one (the `task_error` sense of runtime.signals)."""
        target, terms, goal = self._situation(q, v, target)
        error = target - terms.ee_position
        if goal is not None:
            path = self._path_share(target, terms)
            return path * (terms.ee_jacobian @ (goal - q)) + (1.0 - path) * error
        # a bounded pull toward an unreachable target, not a torque spike
        return error * min(1.0, self.gains.max_error / max(np.linalg.norm(error), 1e-12))

    def task_torque(
        self, q: np.ndarray, v: np.ndarray, task_acceleration: np.ndarray, target: np.ndarray
    ) -> np.ndarray:
        """Joint torques (N·m) for a task acceleration (m/s², world frame) chosen by the expert
        or by a policy: the one law, with the posture of the target's goal pose (or home)."""
        return self.law.command(self.task_affine(q, v, target), task_acceleration)

    def task_affine(
        self, q: np.ndarray, v: np.ndarray, target: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """`task_torque` before its effort clip as (A, b): tau = A a_task + b
        (OperationalSpaceLaw.affine)."""
        target, terms, goal = self._situation(q, v, target)
        if goal is None:
            posture, joint_pull = self.robot.home, 0.0
        else:
            posture, joint_pull = goal, min(1.0, self._joint_pull * self._path_share(target, terms))
        return self.law.affine(q, v, posture, terms, joint_pull)

    def _path_share(self, target: np.ndarray, terms: DynamicsTerms) -> float:
        """1 at path_blend (m) or farther from the target, falling linearly to 0 on it: how
        much the expert follows the goal pose's joint path rather than the Cartesian error."""
        distance = np.linalg.norm(target - terms.ee_position)
        return float(min(1.0, distance / max(self._path_blend, 1e-12)))

    def _situation(
        self, q: np.ndarray, v: np.ndarray, target: np.ndarray
    ) -> tuple[np.ndarray, DynamicsTerms, np.ndarray | None]:
        """The target to aim at (projected; on the table top if below it), the dynamics terms
        at (q, v) and the goal pose (None for unreachable targets). Cached per state: the
        expert's torque asks twice in one step."""
        target = np.asarray(target, dtype=float)
        if target.shape != (3,) or not np.all(np.isfinite(target)):
            raise TaskError(f"target must be 3 finite numbers (m), got {target!r}")
        key = (np.asarray(q, float).tobytes(), np.asarray(v, float).tobytes(), target.tobytes())
        if self._last_situation is not None and self._last_situation[0] == key:
            return self._last_situation[1]
        target = self.workspace.project(target)
        terms = self.dynamics.terms(q, v)
        label = label_target(self.dynamics, target)
        goal = self._goal_pose(target, q) if label == "reachable" else None
        if label == "below_table":
            target = self._on_table(target)
        self._last_situation = (key, (target, terms, goal))
        return target, terms, goal

    def _goal_pose(self, target: np.ndarray, q: np.ndarray) -> np.ndarray | None:
        """The inverse-kinematics pose for a reachable `target` (None if none was found),
        solved again only when the target moved."""
        last = self._goal_target
        if last is not None and np.array_equal(last, target):
            return self._goal
        # From the current pose (continuity), the sampled pose nearest the target (a local
        # solver cannot cross a singularity: a planar arm's elbow must flip sides), then home.
        starts = [q, self.workspace.nearest_pose(target), self.robot.home]
        moved = np.inf if last is None else np.linalg.norm(target - last)
        if self._goal is not None and moved < _WARM_START_DISTANCE:
            starts.insert(0, self._goal)
        self._goal_target, self._goal = target, None
        for start in starts:
            self._goal = solve_position(self.dynamics, target, start, self.gains.goal_margin)
            if self._goal is not None:
                break
        return self._goal

    def _on_table(self, target: np.ndarray) -> np.ndarray:
        """The point on the table top above `target`, pressed in by _TABLE_PRESS: the arm rests
        on the table there instead of pushing into it (friction would then hold it off)."""
        robot = self.robot
        top = robot.table.height + robot.end_effector.contact_radius - _TABLE_PRESS
        return np.array([target[0], target[1], max(target[2], top)])


def _damped_inverse(matrix: np.ndarray, epsilon: float) -> np.ndarray:
    """Inverse of a symmetric positive semi-definite matrix, bounded near its singular directions."""
    eigenvalues, vectors = np.linalg.eigh(matrix)
    eigenvalues = np.maximum(eigenvalues, 0.0)
    return (vectors * (eigenvalues / (eigenvalues**2 + epsilon**2))) @ vectors.T
