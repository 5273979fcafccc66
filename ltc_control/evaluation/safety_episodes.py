"""Closed-loop evaluation of the safety filter in MuJoCo (ltc_control.sim.ArmSimulator).

An aggressive nominal controller drives the simulated arm toward joint targets beyond the
position limits and pushes the end effector through the table; the filter (or nothing) sits
between it and the motors. Every physics step (1 kHz, the control period) the true state is
checked against the robot description's limits, not the filter's tightened ones:
- position:  q outside [lower, upper] by more than POSITION_TOLERANCE (rad);
- velocity:  |v| above the velocity limit by more than VELOCITY_TOLERANCE (rad/s);
- torque:    the command sent to the motors outside the effort limits (the motors would clamp it);
- force:     the table's contact force on the end effector above force_max * (1 + FORCE_TOLERANCE)
             (MuJoCo's soft contact model makes the measured force ring for a few steps after an
             impact; 5 % covers that, not a static overshoot).
A mass mismatch (SimConfig.mass_spread: every body's mass and inertia scaled by a random factor in
[1 - spread, 1 + spread]) tests the margins: the filter keeps the nominal model.

Callable from tests (few short episodes), bench/safety.py and `ltc-control safety-eval`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ltc_control.errors import ConfigError
from ltc_control.robots.description import RobotDescription
from ltc_control.safety.config import SafetyConfig
from ltc_control.safety.filter import SafetyFilter
from ltc_control.safety.model import PinocchioFilterModel
from ltc_control.sim.simulator import ArmSimulator, SimConfig

POSITION_TOLERANCE = 1e-6  # rad
VELOCITY_TOLERANCE = 1e-6  # rad/s
FORCE_TOLERANCE = 0.05  # fraction of force_max
VIOLATION_KINDS = ("position", "velocity", "torque", "force")


@dataclass(frozen=True)
class EvaluationConfig:
    episodes: int = 200
    duration_s: float = 1.0  # s of simulated time per episode
    seed: int = 0
    use_filter: bool = True
    mass_spread: float = 0.0  # model mismatch: per-body mass/inertia factor in [1 - s, 1 + s]
    # Aggressive nominal controller (see AggressiveController).
    joint_stiffness: float = 2.0  # N·m/rad per N·m of effort limit
    joint_damping: float = 0.02  # N·m·s/rad per N·m of effort limit
    push_stiffness: float = 20.0  # N/m per N of force_max
    push_depth: float = 0.2  # m below the table top


@dataclass
class EvaluationReport:
    """Totals over all episodes. `violating_episodes[kind]` counts episodes with >= 1 violation;
    `max_excess[kind]` is the worst excess over the limit (rad, rad/s, N·m, N)."""

    episodes: int = 0
    steps: int = 0
    violating_episodes: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(VIOLATION_KINDS, 0)
    )
    violating_steps: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(VIOLATION_KINDS, 0)
    )
    max_excess: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(VIOLATION_KINDS, 0.0)
    )
    max_contact_force: float = 0.0  # N
    filter_counters: dict[str, int] = field(default_factory=dict)
    filter_step_times_s: list[float] = field(default_factory=list)

    @property
    def total_violations(self) -> int:
        return sum(self.violating_steps.values())

    def summary(self) -> dict[str, object]:
        times = np.asarray(self.filter_step_times_s) * 1e6
        return {
            "episodes": self.episodes,
            "steps": self.steps,
            "violating_episodes": dict(self.violating_episodes),
            "violating_steps": dict(self.violating_steps),
            "max_excess": {k: round(v, 6) for k, v in self.max_excess.items()},
            "max_contact_force_N": round(self.max_contact_force, 3),
            "filter_counters": dict(self.filter_counters),
            "filter_p50_us": float(np.median(times)) if times.size else None,
        }


class AggressiveController:
    """High-gain joint PD toward targets beyond the position limits, plus a Cartesian spring that
    pulls the end effector `push_depth` below the table top; gravity-compensated, never clipped.

        u = g(q) + Kp (q* - q) - Kd v + Jᵀ Kc (p* - p)
    """

    def __init__(self, robot: RobotDescription, config: EvaluationConfig, force_max: float):
        self.robot, self.config = robot, config
        self.model = PinocchioFilterModel(robot)
        self.kp = config.joint_stiffness * robot.limits.effort
        self.kd = config.joint_damping * robot.limits.effort
        self.kc = config.push_stiffness * force_max

    def sample_targets(
        self, rng: np.random.Generator, q0: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Joint targets 0.2..1 rad beyond a random limit per joint (or the start, for some
        joints), and a point under the table top below a point near the start."""
        limits = self.robot.limits
        beyond = rng.uniform(0.2, 1.0, self.robot.dof)
        upper = rng.random(self.robot.dof) < 0.5
        q_target = np.where(upper, limits.upper + beyond, limits.lower - beyond)
        keep = rng.random(self.robot.dof) < 0.2
        q_target[keep] = q0[keep]
        p_start = self.model.terms(q0, np.zeros(self.robot.dof)).ee_position
        p_target = p_start + rng.normal(0.0, 0.1, 3)
        p_target[2] = self.robot.table.height - self.config.push_depth
        return q_target, p_target

    def torque(self, q, v, q_target, p_target, push: bool) -> np.ndarray:
        u = self.model.gravity(q) + self.kp * (q_target - q) - self.kd * v
        if push:
            terms = self.model.terms(q, v)
            u += terms.ee_jacobian.T @ (self.kc * (p_target - terms.ee_position))
        return u


def sample_safe_start(
    safety_filter: SafetyFilter, rng: np.random.Generator, attempts: int = 10_000
) -> tuple[np.ndarray, np.ndarray]:
    """A random state strictly inside every barrier of the filter (h > 0, and psi1 > 0 for the
    relative-degree-2 ones): the set the CBF guarantees are stated for."""
    robot = safety_filter.robot
    limits = robot.limits
    for _ in range(attempts):
        q = rng.uniform(limits.lower + 0.1, limits.upper - 0.1)
        v = rng.uniform(-0.3, 0.3, robot.dof) * limits.velocity
        _, groups = safety_filter.rows(q, v)
        if all(_inside(rows) for rows in groups):
            return q, v
    raise RuntimeError(f"no safe start state found for {robot.name} in {attempts} draws")


def _inside(rows) -> bool:
    if rows.relative_degree == 0:
        return True
    if rows.relative_degree == 1:
        return bool(np.all(rows.h > 0))
    psi1 = rows.h_dot + rows.gains[0] * rows.h
    return bool(np.all(rows.h > 0.01) and np.all(psi1 > 0))


def evaluate(
    robot: RobotDescription, safety_config: SafetyConfig, config: EvaluationConfig
) -> EvaluationReport:
    """Run `config.episodes` randomized episodes (seeded) and count limit violations."""
    if config.episodes < 1 or config.duration_s <= 0:
        # A check that ran nothing reports zero violations: it must not read as a pass.
        raise ConfigError(
            f"nothing to evaluate: {config.episodes} episodes of {config.duration_s} s"
        )
    report = EvaluationReport()
    safety_filter = SafetyFilter(robot, safety_config)
    controller = AggressiveController(robot, config, safety_config.force_max)
    for episode in range(config.episodes):
        rng = np.random.default_rng([config.seed, episode])
        sim = ArmSimulator(
            robot, SimConfig(mass_spread=config.mass_spread, seed=config.seed + episode)
        )
        q0, v0 = sample_safe_start(safety_filter, rng)
        sim.reset(q0, v0)
        q_target, p_target = controller.sample_targets(rng, q0)
        push = bool(rng.random() < 0.5)
        safety_filter.solver.reset()
        _run_episode(
            sim,
            safety_filter if config.use_filter else None,
            controller,
            report,
            (q_target, p_target, push),
            config,
            safety_config.force_max,
        )
        report.episodes += 1
    report.filter_counters = safety_filter.counters
    return report


def _run_episode(sim, safety_filter, controller, report, targets, config, force_max) -> None:
    robot = sim.robot
    limits = robot.limits
    steps = round(config.duration_s / sim.config.physics_dt)
    episode_kinds: set[str] = set()
    for _ in range(steps):
        state = sim.true_state()
        u = controller.torque(state.q, state.v, *targets)
        if safety_filter is not None:
            result = safety_filter.filter(state.q, state.v, u)
            u = result.command
            report.filter_step_times_s.append(result.solve_time_s)
        excess = {
            "torque": np.max(np.abs(u) - limits.effort),
        }
        sim.apply(np.clip(u, -limits.effort, limits.effort))
        sim.advance(sim.config.physics_dt)
        after = sim.true_state()
        excess["position"] = max(np.max(after.q - limits.upper), np.max(limits.lower - after.q))
        excess["velocity"] = np.max(np.abs(after.v) - limits.velocity)
        force = float(np.linalg.norm(after.contact_force))
        excess["force"] = force - force_max
        report.max_contact_force = max(report.max_contact_force, force)
        tolerance = {
            "position": POSITION_TOLERANCE,
            "velocity": VELOCITY_TOLERANCE,
            "torque": 1e-9,
            "force": FORCE_TOLERANCE * force_max,
        }
        for kind, value in excess.items():
            report.max_excess[kind] = max(report.max_excess[kind], float(value))
            if value > tolerance[kind]:
                report.violating_steps[kind] += 1
                episode_kinds.add(kind)
        report.steps += 1
    for kind in episode_kinds:
        report.violating_episodes[kind] += 1
