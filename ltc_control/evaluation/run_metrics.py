"""What a closed-loop run did, in numbers: tracking, effort, filter activity, limit violations.

Input is a Recording: the topics as a recorder saw them (joint states with the applied torque,
targets, the filter's nominal and safe commands and mode, the contact force), each with its own
stamps. `Recording.trajectory` turns its joint-state stream into the episode's Trajectory (the
one time series the evaluation, training and explain tools share: the latest target at each
joint state, forward kinematics of q, the applied torque as tau); tracking and limits are read
from it, filter activity and contact force from their own streams. Violations are counted per
sample against the robot description's limits with small stated tolerances (sensor noise and
the discrete-time loop): position 1e-3 rad, velocity 2 % of the limit, torque 1e-6 N·m; contact
force against the filter's F_max with 5 % tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ltc_control.control.filter_loop import FilterLoop
from ltc_control.data.trajectory import Trajectory
from ltc_control.robots.description import RobotDescription
from ltc_control.robots.dynamics import PinocchioDynamics, RobotDynamics
from ltc_control.safety import SafetyFilter
from ltc_control.sim.expert import OperationalSpaceExpert
from ltc_control.sim.simulator import ArmSimulator

POSITION_TOLERANCE = 1e-3  # rad
VELOCITY_TOLERANCE = 0.02  # fraction of the velocity limit
TORQUE_TOLERANCE = 1e-6  # N·m
FORCE_TOLERANCE = 0.05  # fraction of F_max
INTERVENTION_THRESHOLD = 1e-3  # N·m: a smaller change is numerical noise, not an intervention
# SafetyStatus modes (msg/SafetyStatus.msg): braking as a fallback or by the watchdog, and the
# braking of the start-up wait for the first nominal command, counted apart.
BRAKING_MODES = (1, 2)  # MODE_FALLBACK, MODE_WATCHDOG
WAITING_MODE = 4  # MODE_WAITING


@dataclass
class Recording:
    """Samples appended while recording (lists, one set per topic), read as arrays by
    `arrays()`; the joint-state stream as a Trajectory by `trajectory()`."""

    joint_time: list[float] = field(default_factory=list)
    q: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)
    tau_applied: list[np.ndarray] = field(default_factory=list)
    target_time: list[float] = field(default_factory=list)
    target: list[np.ndarray] = field(default_factory=list)
    status_time: list[float] = field(default_factory=list)
    nominal: list[np.ndarray] = field(default_factory=list)
    safe: list[np.ndarray] = field(default_factory=list)
    mode: list[int] = field(default_factory=list)
    wrench_time: list[float] = field(default_factory=list)
    contact_force: list[np.ndarray] = field(default_factory=list)
    commands_received: int = 0

    def arrays(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name), dtype=float)

    def trajectory(self, robot: RobotDescription, dynamics: RobotDynamics) -> Trajectory:
        """One row per joint state: the latest target received (the first one before any
        arrived), ee_position from forward kinematics of q, tau the applied torque."""
        t, q = self.arrays("joint_time"), self.arrays("q")
        zero = np.zeros(robot.dof)
        return Trajectory(
            robot=robot.name,
            joint_names=robot.joint_names,
            t=t,
            q=q,
            v=self.arrays("v"),
            target=_targets_at(t, self.arrays("target_time"), self.arrays("target")),
            ee_position=np.array([dynamics.terms(qi, zero).ee_position for qi in q]),
            tau=self.arrays("tau_applied"),
            info={"source": "recorder", "commands_received": self.commands_received},
        )


@dataclass(frozen=True)
class RunSummary:
    duration_s: float
    tracking_rmse_m: float  # end effector to target, over the whole run
    final_errors_m: list[float]  # at the end of each target's hold
    interventions: int  # filter steps that changed the command
    filter_steps: int
    fallbacks: int  # braking (fallback or watchdog) steps
    waiting: int  # braking steps before the first nominal command
    max_torque_ratio: float  # max |tau| / effort limit over joints and time
    max_contact_force_n: float
    force_limit_n: float
    position_violations: int
    velocity_violations: int
    torque_violations: int
    force_violations: int

    @property
    def violations(self) -> int:
        return (
            self.position_violations
            + self.velocity_violations
            + self.torque_violations
            + self.force_violations
        )


def summarize(
    recording: Recording, trajectory: Trajectory, robot: RobotDescription, force_limit: float
) -> RunSummary:
    """`trajectory`: recording.trajectory(...), built once by the caller (also plotted)."""
    t, q, v, tau = trajectory.t, trajectory.q, trajectory.v, trajectory.tau
    errors = end_effector_errors(trajectory)
    nominal, safe = recording.arrays("nominal"), recording.arrays("safe")
    changed = np.linalg.norm(np.nan_to_num(nominal - safe, nan=np.inf), axis=1)
    modes = np.asarray(recording.mode)
    force = np.linalg.norm(recording.arrays("contact_force").reshape(-1, 3), axis=1)
    limits = robot.limits
    return RunSummary(
        duration_s=float(t[-1] - t[0]) if len(t) else 0.0,
        tracking_rmse_m=float(np.sqrt(np.mean(errors**2))),
        final_errors_m=_final_errors(t, trajectory.target, errors),
        interventions=int(np.sum(changed > INTERVENTION_THRESHOLD)),
        filter_steps=len(modes),
        fallbacks=int(np.sum(np.isin(modes, BRAKING_MODES))),
        waiting=int(np.sum(modes == WAITING_MODE)),
        max_torque_ratio=float(np.max(np.abs(tau) / limits.effort)),
        max_contact_force_n=float(force.max()) if len(force) else 0.0,
        force_limit_n=force_limit,
        position_violations=int(
            np.sum(
                (q < limits.lower - POSITION_TOLERANCE) | (q > limits.upper + POSITION_TOLERANCE)
            )
        ),
        velocity_violations=int(np.sum(np.abs(v) > limits.velocity * (1 + VELOCITY_TOLERANCE))),
        torque_violations=int(np.sum(np.abs(tau) > limits.effort + TORQUE_TOLERANCE)),
        force_violations=int(np.sum(force > force_limit * (1 + FORCE_TOLERANCE))),
    )


def end_effector_errors(trajectory: Trajectory) -> np.ndarray:
    """Distance end effector -> target per sample (m)."""
    return np.linalg.norm(trajectory.ee_position - trajectory.target, axis=1)


def _targets_at(t: np.ndarray, target_time: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The latest target received at each time (the first one before any arrived)."""
    index = np.clip(np.searchsorted(target_time, t, side="right") - 1, 0, len(targets) - 1)
    return targets.reshape(-1, 3)[index]


def _final_errors(t: np.ndarray, targets: np.ndarray, errors: np.ndarray) -> list[float]:
    """Error at the last sample before each change of target."""
    changes = np.flatnonzero(np.any(np.diff(targets, axis=0) != 0, axis=1))
    ends = [*changes.tolist(), len(t) - 1]
    return [float(errors[i]) for i in ends]


def expert_tracking_rmse(
    robot: RobotDescription,
    target_at: Callable[[float], np.ndarray],
    safety_filter: SafetyFilter,
    duration: float,
    policy_period: float,
) -> float:
    """Tracking RMSE (m) of the model-based expert on the same targets (`target_at(t)`, m) and
    loop rates as a run: the yardstick for a policy's figure (same sim without noise, the expert
    stepping every `policy_period` s, its command through the filter's torque loop every control
    period of `safety_filter`, as the filter node runs it)."""
    sim, expert = ArmSimulator(robot), OperationalSpaceExpert(PinocchioDynamics(robot))
    loop, names = FilterLoop(safety_filter), robot.joint_names
    period = safety_filter.config.control_period
    errors = []
    for step in range(round(duration / period)):
        state = sim.measure()
        target = target_at(state.time)
        if step % round(policy_period / period) == 0:
            loop.on_nominal(names, expert.torque(state.q, state.v, target), now=state.time)
        loop.on_joint_state(names, state.q, state.v, stamp=state.time, now=state.time)
        sim.apply(loop.step(state.time).command)
        sim.advance(period)
        errors.append(np.linalg.norm(state.ee_position - target))
    return float(np.sqrt(np.mean(np.square(errors))))
