"""Closed-loop evaluation in the simulator, the way the policy is deployed.

An episode: the MuJoCo arm (ArmSimulator, masses perturbed, noisy sensors) starts near home; a
seeded random TargetSchedule (some targets below the table or out of reach) runs for
`duration_s`; at each sensor instant (rate `rate_hz`, intervals jittered by ±`jitter`) the
controller computes a nominal torque and the safety filter (if enabled) turns it into the applied
torque through the filter node's own torque loop (control.FilterLoop): once per sample, held until
the next one (default: cheap, for training-time checks), or every control_period of the safety
config on the held nominal with fresh measurements (`filter_at_sensor_rate=False`: the 1 kHz
torque loop as the filter node runs it; bench/control.py).
A learned policy is driven through `control.PolicyController` with the sample stamps as message
stamps, so its network steps with the real elapsed time and g(q) is added back exactly as in the
ROS policy node (eval == deployment). Episode `i` of a seed is the same for every controller
(paired comparison).

Metrics per episode (units):
- tracking_rmse (m): RMS distance end effector -> target over samples whose target is
  reachable (unreachable targets have no zero-error answer);
- segments: reach scores per target segment (evaluation.reach: final error, reached within
  5 / 2 cm and time to reach on reachable holds, tracking RMSE on moving targets, closest
  approach on unreachable ones); holds shorter than segment_s[0], cut by the episode's end, are
  not judged; `summarize` pools them over episodes (reach5, reach2, ...);
- success: at the end of every judged reachable hold the end effector is within
  `success_radius` (m) of the target;
- effort (N·m): RMS of the applied torque minus gravity compensation g(q);
- interventions: filter calls that changed the command by more than `intervention_tolerance`
  (N·m); fallbacks are counted separately;
- violations: checks (after every hold: per sample, or per filter period in torque-loop mode)
  where the true state breaks a limit: a joint beyond its position limits
  (+`position_tolerance` rad), faster than its velocity limit (x(1+`velocity_tolerance`)), or an
  end-effector contact force above the safety config's force_max (N).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from ltc_control.control.barrier_gains import GainOutputs
from ltc_control.control.filter_loop import FALLBACK, FilterLoop, FilterStatus
from ltc_control.control.policy_controller import PolicyController
from ltc_control.control.stamps import StampClock
from ltc_control.data.trajectory import Trajectory, TrajectoryRows
from ltc_control.errors import LtcControlError
from ltc_control.evaluation.errors import EvaluationConfigError, EvaluationError
from ltc_control.evaluation.reach import SegmentScore, score_segments, spans, summarize_scores
from ltc_control.robots import load_robot_description
from ltc_control.robots.description import RobotDescription
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime.signals import ObservationLayout
from ltc_control.sim.expert import OperationalSpaceExpert
from ltc_control.sim.rollouts import RolloutConfig, collect_rollouts
from ltc_control.sim.simulator import (
    ArmSimulator,
    Measurement,
    randomized_simulator,
    sample_times,
)
from ltc_control.sim.task import TargetSchedule


@dataclass(frozen=True)
class Condition:
    """A sensor timing to evaluate under."""

    name: str = "nominal"
    rate_hz: float = 100.0
    jitter: float = 0.0  # fraction, intervals scaled by (1 + jitter * u), u in [-1, 1]


NOMINAL = Condition()
TASKS = ("mixed", "tracking")
VIOLATION_KINDS = ("position", "velocity", "force")
GAIN_DT_LIMIT = 0.9  # largest CBF gain * control period used (the condition needs < 1)
RATE_SHIFT = (
    Condition("50Hz", 50.0),
    Condition("200Hz", 200.0),
    Condition("jitter30", 100.0, 0.3),
)


@dataclass(frozen=True)
class EvaluationConfig:
    episodes: int = 100
    duration_s: float = 6.0
    seed: int = 10_000  # episode seeds are drawn from this; keep it apart from training seeds
    q_noise_std: float = 0.0005  # rad
    v_noise_std: float = 0.005  # rad/s
    mass_spread: float = 0.1
    initial_offset: float = 0.3  # rad
    initial_speed: float = 0.1  # rad/s
    moving_fraction: float = 0.3
    unreachable_fraction: float = 0.2
    segment_s: tuple[float, float] = (1.5, 3.0)
    # "mixed": TargetSchedule.random (holds, moving and unreachable targets, the fractions
    # above); "tracking": TargetSchedule.tracking, a hold of tracking_hold_s then a target
    # moving away from it (the moving-target benchmark: tracking without a second approach).
    task: str = "mixed"
    tracking_hold_s: float = 1.5  # s: the Panda reaches most holds in 1 s, not all
    use_filter: bool = True
    # True: the filter runs once per sensor sample (control_period = sensor period, gains
    # capped), as the safety filter node at the policy rate does. False: it runs every
    # control_period of its config (config/<robot>/safety.yaml: 1 ms, a torque loop) on the held policy
    # command with fresh measurements (10x the QPs at 100 Hz; slow).
    filter_at_sensor_rate: bool = True
    success_radius: float = 0.05  # m
    intervention_tolerance: float = 1e-3  # N·m
    position_tolerance: float = 1e-3  # rad
    velocity_tolerance: float = 0.01  # fraction of the velocity limit

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise EvaluationConfigError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.episodes < 1 or not self.duration_s > 0.0:
            raise EvaluationConfigError(
                f"evaluation needs episodes >= 1 and duration_s > 0, got {self.episodes}, "
                f"{self.duration_s}"
            )


class Controller(Protocol):
    """Nominal torque (N·m) from measured joint state and the current target. The target's
    velocity (m/s) is privileged: only the expert may use it."""

    def reset(self) -> None: ...

    def command(
        self,
        t: float,
        q: np.ndarray,
        v: np.ndarray,
        target: np.ndarray,
        target_velocity: np.ndarray | None = None,
    ) -> np.ndarray: ...


class ExpertController:
    def __init__(self, expert: OperationalSpaceExpert) -> None:
        self.expert = expert

    def reset(self) -> None:
        self.expert.reset()

    def command(
        self,
        t: float,
        q: np.ndarray,
        v: np.ndarray,
        target: np.ndarray,
        target_velocity: np.ndarray | None = None,
    ) -> np.ndarray:
        return self.expert.torque(q, v, target, target_velocity)


@functools.cache
def _robot_model(robot: str) -> PinocchioDynamics:
    return PinocchioDynamics(load_robot_description(robot))


def observation_layout(input_names: Sequence[str], robot: str) -> ObservationLayout:
    """A model's ObservationLayout for one episode of recorded samples of `robot`, with the
    robot model's senses (a fresh task law for `task_error`: its goal poses follow the
    episode's targets, so build one per episode and feed it the samples in order)."""
    dynamics = _robot_model(robot)
    return ObservationLayout(
        input_names,
        dynamics.robot.joint_names,
        dynamics.end_effector,
        OperationalSpaceExpert(dynamics).task_error,
    )


def deployed_controller(
    policy: Any,
    robot: RobotDescription,
    dynamics: PinocchioDynamics,
    clock: StampClock,
    min_period: float = 0.0,
) -> tuple[PolicyController, OperationalSpaceExpert]:
    """`policy` behind a PolicyController as the policy node deploys it (the node and the
    evaluator both build it here): gravity, the model senses and the task-space law (the
    expert's, returned too: it keeps a goal pose, reset with the controller) from the robot
    model; `min_period` (s) as PolicyController's."""
    task_law = OperationalSpaceExpert(dynamics)  # for ee_acceleration actions
    controller = PolicyController(
        policy,
        robot.joint_names,
        clock,
        gravity=dynamics.gravity,
        min_period=min_period,
        end_effector=dynamics.end_effector,
        task_law=task_law.task_torque,
        task_error=task_law.task_error,
    )
    return controller, task_law


class LearnedController:
    """A policy (runtime LiquidPolicy or BaselinePolicy) behind the deployed PolicyController.
    A BarrierNet model's class-K gains (mapped around `configured_gains`, by name, as the
    policy node does) are `gains` after each command: (names, values); None for other models."""

    def __init__(
        self,
        policy: Any,
        robot: RobotDescription,
        dynamics: PinocchioDynamics,
        nominal_dt: float,
        max_dt: float = 0.1,
        configured_gains: Mapping[str, float] | None = None,
    ) -> None:
        clock = StampClock(nominal_dt=nominal_dt, max_dt=max_dt)
        self.controller, self.task_law = deployed_controller(policy, robot, dynamics, clock)
        self.joint_names = list(robot.joint_names)
        self.gain_outputs = None
        if configured_gains is not None and GainOutputs.present(policy.output_names):
            self.gain_outputs = GainOutputs(policy.output_names, configured_gains)
        self.gains: tuple[tuple[str, ...], np.ndarray] | None = None

    def reset(self) -> None:
        self.controller.reset()
        self.task_law.reset()

    def command(
        self,
        t: float,
        q: np.ndarray,
        v: np.ndarray,
        target: np.ndarray,
        target_velocity: np.ndarray | None = None,
    ) -> np.ndarray:
        """The deployed policy's command; it never sees `target_velocity` (privileged)."""
        self.controller.set_target(target)
        step = self.controller.on_joint_state(self.joint_names, q, v, stamp=t, now=t)
        if step is None:
            raise EvaluationError(
                f"policy refused the sample at t={t}: {dict(self.controller.rejections)}"
            )
        if self.gain_outputs is not None:
            self.gains = (self.gain_outputs.names, self.gain_outputs(step.outputs))
        return step.command


class MixedController:
    """DAgger's mixture: beta * expert + (1 - beta) * learner (both step on every sample)."""

    def __init__(self, expert: Controller, learner: Controller, beta: float) -> None:
        self.expert, self.learner, self.beta = expert, learner, beta

    def reset(self) -> None:
        self.expert.reset()
        self.learner.reset()

    def command(
        self,
        t: float,
        q: np.ndarray,
        v: np.ndarray,
        target: np.ndarray,
        target_velocity: np.ndarray | None = None,
    ) -> np.ndarray:
        learned = self.learner.command(t, q, v, target)
        if self.beta == 0.0:
            return learned
        expert = self.expert.command(t, q, v, target, target_velocity)
        return self.beta * expert + (1.0 - self.beta) * learned


def simulate_trajectories(
    policy: Any,
    robot: str,
    episodes: int = 2,
    duration_s: float = 6.0,
    rate_hz: float = 100.0,
    seed: int = 0,
    max_dt: float = 0.1,
) -> list[Trajectory]:
    """Closed loop: `policy` drives the simulated arm through PolicyController at `rate_hz`
    towards the task's random targets (`collect_rollouts` with the policy as driver); `tau` holds
    the expert's labels, `info["applied_tau"]` what the policy applied (clamped to the limits).
    A refused sample (see PolicyController) holds gravity compensation; `max_dt` (s) is the
    policy node's default."""
    description = load_robot_description(robot)
    dynamics = PinocchioDynamics(description)
    gravity = dynamics.gravity
    names = description.joint_names

    def make_driver():
        clock = StampClock(nominal_dt=1.0 / rate_hz, max_dt=max_dt)
        controller, task_law = deployed_controller(policy, description, dynamics, clock)
        controller.reset()
        task_law.reset()

        def drive(t: float, q: np.ndarray, v: np.ndarray, target: np.ndarray) -> np.ndarray:
            controller.set_target(target)
            step = controller.on_joint_state(names, q, v, stamp=t, now=t)
            return gravity(q) if step is None else step.command

        return drive

    config = RolloutConfig(q_noise_std=0.0005, v_noise_std=0.005)
    return collect_rollouts(
        description,
        episodes,
        duration_s,
        rate_hz,
        seed=seed,
        config=config,
        make_driver=make_driver,
    )


@dataclass
class EpisodeResult:
    seed: int
    tracking_rmse: float  # m
    success: bool
    effort: float  # N·m
    interventions: int
    correction: float  # N·m: mean |applied - nominal| (Euclidean) over filter calls
    fallbacks: int
    violations: int  # samples with any limit broken
    violation_kinds: dict[str, int]  # checks per kind: position, velocity, force
    steps: int  # sensor samples (policy steps)
    filter_steps: int  # safety filter calls
    segments: list[dict[str, Any]] = field(default_factory=list)  # SegmentScore.as_dict()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Tally:
    """Counters of one episode (see the module docstring)."""

    interventions: int = 0
    fallbacks: int = 0
    violations: int = 0
    filter_steps: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VIOLATION_KINDS, 0))
    efforts: list[float] = field(default_factory=list)
    correction_sum: float = 0.0  # N·m, summed |applied - nominal|

    def filtered(
        self, status: FilterStatus, nominal: np.ndarray, applied: np.ndarray, tol: float
    ) -> None:
        change = applied - nominal
        self.filter_steps += 1
        self.fallbacks += status.mode == FALLBACK
        self.interventions += bool(np.abs(change).max() > tol)
        self.correction_sum += math.sqrt(change @ change)

    def check(
        self, limits: _TrueStateLimits, truth: Measurement, applied: np.ndarray, gravity: np.ndarray
    ) -> None:
        """One limit check of the true state under `applied` (N·m; effort counted over
        `gravity`)."""
        broken = limits.broken(truth)
        self.violations += bool(broken)
        for kind in broken:
            self.kinds[kind] += 1
        over_gravity = applied - gravity
        self.efforts.append(float(over_gravity @ over_gravity))


@dataclass(frozen=True)
class _TrueStateLimits:
    """What counts as a violation (EvaluationConfig's tolerances on the robot's limits and the
    safety filter's force limit), bounds precomputed: it is checked every physics period."""

    lower: np.ndarray
    upper: np.ndarray
    velocity: np.ndarray
    force_max: float

    def broken(self, truth: Measurement) -> list[str]:
        """The kinds of limit the true state breaks (empty if none)."""
        q, force = truth.q, truth.contact_force
        outside = bool((q < self.lower).any() or (q > self.upper).any())
        too_fast = bool((np.abs(truth.v) > self.velocity).any())
        pressing = math.sqrt(force @ force) > self.force_max
        return [
            k for k, bad in zip(VIOLATION_KINDS, (outside, too_fast, pressing), strict=True) if bad
        ]


class Evaluator:
    """Runs episodes of one robot; holds the nominal dynamics, expert and safety filter."""

    def __init__(self, robot: RobotDescription, config: EvaluationConfig | None = None) -> None:
        self.robot = robot
        self.config = config if config is not None else EvaluationConfig()
        self.dynamics = PinocchioDynamics(robot)
        self.expert = OperationalSpaceExpert(self.dynamics)
        self._filters: dict[float, Any] = {}

    def episode_seeds(self) -> list[int]:
        rng = np.random.default_rng(self.config.seed)
        return [int(s) for s in rng.integers(0, 2**31, self.config.episodes)]

    def expert_controller(self) -> ExpertController:
        return ExpertController(self.expert)

    def learned_controller(
        self, policy: Any, condition: Condition, learned_gains: bool = True
    ) -> LearnedController:
        """The policy behind PolicyController; a BarrierNet model's gains are mapped around the
        gains of the filter its episodes run (see run_episode), or ignored (the filter keeps its
        configured gains) without `learned_gains`."""
        filter_rate = condition.rate_hz if self.config.filter_at_sensor_rate else None
        configured = self.safety_filter(filter_rate).config.gains_by_name()
        configured = configured if learned_gains else None
        return LearnedController(
            policy, self.robot, self.dynamics, 1.0 / condition.rate_hz, configured_gains=configured
        )

    def safety_filter(self, rate_hz: float | None = None) -> Any:
        """The robot's SafetyFilter (config/<robot>/safety.yaml). With `rate_hz` it runs at that
        rate: zero-order-hold period 1 / rate_hz, and class-K gains above GAIN_DT_LIMIT * rate_hz
        capped (the sampled-data CBF condition needs gain * period < 1; the files are tuned for
        a 1 kHz loop). Cached per rate."""
        if rate_hz not in self._filters:
            from ltc_control.safety import SafetyConfig, SafetyFilter, load_safety_config
            from ltc_control.safety.config import GAIN_KEYS

            try:
                base = load_safety_config(self.robot.name)
            except LtcControlError:  # no per-robot file: the documented defaults
                base = SafetyConfig(robot=self.robot.name)
            period = base.control_period if rate_hz is None else 1.0 / rate_hz
            gains = {k: min(getattr(base, k), GAIN_DT_LIMIT / period) for k in GAIN_KEYS}
            config = replace(base, control_period=period, **gains)
            config.validate()
            self._filters[rate_hz] = SafetyFilter(self.robot, config, dynamics=self.dynamics)
        return self._filters[rate_hz]

    def run_episode(
        self,
        controller: Controller,
        seed: int,
        condition: Condition = NOMINAL,
        label: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> tuple[EpisodeResult, Trajectory]:
        """One closed-loop episode and its samples (ee_position: the true end effector). `tau` is
        the controller's nominal command, or `label(q, v, target, target_velocity)` (e.g. the
        expert) when given; info["nominal_tau"] then holds the controller's command, and
        info["target_velocity"] the target's velocity at every sample (m/s, privileged)."""
        cfg, robot = self.config, self.robot
        rng = np.random.default_rng(seed)
        sim = randomized_simulator(robot, rng, seed, cfg)
        schedule = self.schedule(seed)
        filter_rate = condition.rate_hz if cfg.filter_at_sensor_rate else None
        loop = FilterLoop(self.safety_filter(filter_rate)) if cfg.use_filter else None
        controller.reset()
        rows = TrajectoryRows()
        nominals, target_velocities = [], []
        violations: list[int] = []  # limit checks broken while each sample's command held
        errors = []
        tally = _Tally()
        times = sample_times(cfg.duration_s, condition.rate_hz, condition.jitter, seed)
        period = 1.0 / condition.rate_hz
        for k, t in enumerate(times):
            sim.advance_to(t)
            truth = sim.true_state()
            measured = sim.measure(truth)
            target, target_velocity = schedule.target_at(t), schedule.velocity_at(t)
            nominal = controller.command(float(t), measured.q, measured.v, target, target_velocity)
            ee = truth.ee_position
            if schedule.label_at(t) == "reachable":
                errors.append(np.sum((ee - target) ** 2))
            if label is not None:
                tau = label(measured.q, measured.v, target, target_velocity)
            else:
                tau = nominal
            rows.append(float(t), measured.q, measured.v, target, ee, tau)
            nominals.append(nominal)
            target_velocities.append(target_velocity)
            end = times[k + 1] if k + 1 < len(times) else t + period
            gains = getattr(controller, "gains", None)  # a BarrierNet policy's, for this command
            broken_before = tally.violations
            self._hold(sim, loop, nominal, measured, end, tally, gains)
            violations.append(tally.violations - broken_before)
        info: dict[str, Any] = {
            "seed": seed,
            "rate_hz": condition.rate_hz,
            "jitter": condition.jitter,
            "target_velocity": np.array(target_velocities),
        }
        if label is not None:
            info["nominal_tau"] = np.array(nominals)
        record = rows.trajectory(robot.name, robot.joint_names, info)
        scores = self._reach_scores(schedule, record, np.array(violations))
        result = EpisodeResult(
            seed=seed,
            tracking_rmse=float(np.sqrt(np.mean(errors))) if errors else 0.0,
            success=all(s.reached[0] for s in scores if s.category == "hold" and s.judged),
            effort=float(np.sqrt(np.mean(tally.efforts) / robot.dof)),
            interventions=tally.interventions,
            correction=tally.correction_sum / max(1, tally.filter_steps),
            fallbacks=tally.fallbacks,
            violations=tally.violations,
            violation_kinds=tally.kinds,
            steps=len(times),
            filter_steps=tally.filter_steps,
            segments=[s.as_dict() for s in scores],
        )
        return result, record

    def schedule(self, seed: int) -> TargetSchedule:
        """The episode's targets (EvaluationConfig.task)."""
        cfg = self.config
        if cfg.task == "tracking":
            return TargetSchedule.tracking(self.dynamics, seed, cfg.tracking_hold_s)
        return TargetSchedule.random(
            self.dynamics,
            cfg.duration_s,
            seed,
            cfg.segment_s,
            cfg.moving_fraction,
            cfg.unreachable_fraction,
        )

    def _hold(
        self,
        sim: ArmSimulator,
        loop: FilterLoop | None,
        nominal: np.ndarray,
        measured: Any,
        end: float,
        tally: _Tally,
        gains: tuple[Sequence[str], np.ndarray] | None = None,
    ) -> None:
        """Apply `nominal` until `end` (s): unfiltered, or through the filter node's torque loop
        (FilterLoop: the nominal command held, answered once per sample when the filter runs at
        the sensor rate, else every filter period with fresh measurements; with a BarrierNet
        policy's `gains` for it, as the filter node gets them); limits are checked on the true
        state after every period."""
        if loop is None:
            sim.apply(nominal)
            sim.advance_to(end)
            self._check(tally, sim.true_state(), nominal)
            return
        names = self.robot.joint_names
        step = None if self.config.filter_at_sensor_rate else loop.filter.config.control_period
        now = sim.time
        if gains is not None:
            loop.on_gains(*gains, stamp=now)
        loop.on_nominal(names, nominal, now, stamp=now)
        while True:
            loop.on_joint_state(names, measured.q, measured.v, stamp=now, now=now)
            status = loop.step(now)
            applied = sim.apply(status.command)
            tally.filtered(status, nominal, applied, self.config.intervention_tolerance)
            now = end if step is None else min(now + step, end)
            sim.advance_to(now)
            truth = sim.true_state()
            self._check(tally, truth, applied)
            if now >= end - 1e-9:
                return
            measured = sim.measure(truth)

    def _check(self, tally: _Tally, truth: Measurement, applied: np.ndarray) -> None:
        tally.check(self._limits, truth, applied, self.dynamics.gravity(truth.q))

    @functools.cached_property
    def _limits(self) -> _TrueStateLimits:
        limits, cfg = self.robot.limits, self.config
        return _TrueStateLimits(
            lower=limits.lower - cfg.position_tolerance,
            upper=limits.upper + cfg.position_tolerance,
            velocity=limits.velocity * (1.0 + cfg.velocity_tolerance),
            force_max=self.safety_filter().config.force_max,
        )

    def _reach_scores(
        self, schedule: TargetSchedule, record: Trajectory, violations: np.ndarray
    ) -> list[SegmentScore]:
        """evaluation.reach scores of the episode's target segments, at the true end-effector
        position of each sample (`violations`: limit checks broken after each sample)."""
        errors = np.linalg.norm(record.ee_position - record.target, axis=1)
        segment_spans = spans(schedule.segments, end=record.t[-1] + 1e-9)  # last sample included
        return score_segments(record.t, errors, segment_spans, violations, self.config.segment_s[0])

    def evaluate(
        self,
        make_controller: Callable[[Condition], Controller],
        condition: Condition = NOMINAL,
        progress: Callable[[], None] | None = None,
    ) -> list[EpisodeResult]:
        """Every episode of the config under `condition` with a fresh controller."""
        controller = make_controller(condition)
        results = []
        for seed in self.episode_seeds():
            results.append(self.run_episode(controller, seed, condition)[0])
            if progress is not None:
                progress()
        return results


def summarize(results: Sequence[EpisodeResult]) -> dict[str, Any]:
    """Means over episodes (median RMSE too), totals of counts, and the reach metrics pooled
    over every episode's segments (evaluation.reach.summarize_scores: reach5, reach2, ...)."""
    rmse = np.array([r.tracking_rmse for r in results])
    reach = summarize_scores([SegmentScore(**s) for r in results for s in r.segments])
    return (
        {"episodes": len(results)}
        | reach
        | {
            "tracking_rmse_mean": float(rmse.mean()),
            "tracking_rmse_median": float(np.median(rmse)),
            "success_rate": float(np.mean([r.success for r in results])),
            "effort_mean": float(np.mean([r.effort for r in results])),
            "interventions": int(sum(r.interventions for r in results)),
            "intervention_rate": float(
                sum(r.interventions for r in results) / max(1, sum(r.filter_steps for r in results))
            ),
            "correction_mean_nm": float(
                sum(r.correction * r.filter_steps for r in results)
                / max(1, sum(r.filter_steps for r in results))
            ),
            "fallbacks": int(sum(r.fallbacks for r in results)),
            "violations": int(sum(r.violations for r in results)),
        }
        | {
            f"violations_{kind}": int(sum(r.violation_kinds[kind] for r in results))
            for kind in VIOLATION_KINDS
        }
    )
