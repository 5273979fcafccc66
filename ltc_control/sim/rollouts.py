"""Expert demonstrations: run the expert in the simulator under domain randomization.

Each episode is a Trajectory (ltc_control.data.trajectory: the one time-series format of an
episode; units and meaning there), one row per sensor sample; ee_position is forward kinematics
of the measured q (what a real robot would compute), tau the expert's command held until the
next sample.

Randomized per episode (all from `seed`): the target schedule, the initial state (home plus a
uniform offset, kept inside the limits, small random velocity), link masses (uniform ±mass_spread),
the sensor rate (when given as a range) and sample-time jitter. Sensor noise std (q, v) is fixed
per call. config/rollouts.yaml (load_rollout_plan) holds the settings used for training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ltc_control.data.trajectory import Trajectory, TrajectoryRows
from ltc_control.robots.description import RobotDescription
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.sim.expert import ExpertGains, OperationalSpaceExpert
from ltc_control.sim.simulator import (
    SimulatorError,
    randomized_simulator,
    sample_times,
)
from ltc_control.sim.task import TargetSchedule


@dataclass(frozen=True)
class RolloutConfig:
    """Domain randomization ranges (see module docstring)."""

    q_noise_std: float = 0.0  # rad
    v_noise_std: float = 0.0  # rad/s
    mass_spread: float = 0.1  # fraction, uniform per body
    initial_offset: float = 0.3  # rad, uniform per joint around home
    initial_speed: float = 0.1  # rad/s, uniform per joint
    moving_fraction: float = 0.3
    unreachable_fraction: float = 0.2
    segment_s: tuple[float, float] = (1.5, 3.0)
    gains: ExpertGains = field(default_factory=ExpertGains)

    def __post_init__(self) -> None:
        checks = {
            "q_noise_std": self.q_noise_std >= 0.0,
            "v_noise_std": self.v_noise_std >= 0.0,
            "mass_spread": 0.0 <= self.mass_spread < 1.0,
            "initial_offset": self.initial_offset >= 0.0,
            "initial_speed": self.initial_speed >= 0.0,
            "moving_fraction": 0.0 <= self.moving_fraction <= 1.0,
            "unreachable_fraction": 0.0 <= self.unreachable_fraction <= 1.0,
            "segment_s": len(self.segment_s) == 2 and 0.0 < self.segment_s[0] <= self.segment_s[1],
        }
        bad = [key for key, ok in checks.items() if not ok]
        if bad:
            raise SimulatorError(f"RolloutConfig: out of range: {', '.join(bad)}")


# A learner (e.g. a trained policy) that drives the arm while the expert only labels: called once
# per episode to get a fresh controller (t s, q rad, v rad/s, target m) -> torque N·m.
DriverFactory = Callable[[], Callable[[float, np.ndarray, np.ndarray, np.ndarray], np.ndarray]]


def collect_rollouts(
    robot: RobotDescription,
    n_episodes: int,
    duration_s: float,
    rate_hz: float | tuple[float, float] = 200.0,
    jitter: float = 0.0,
    seed: int = 0,
    config: RolloutConfig | None = None,
    make_driver: DriverFactory | None = None,
) -> list[Trajectory]:
    """Run the operational-space expert for n_episodes of duration_s each; see the module
    docstring for what is randomized. A (low, high) rate_hz draws each episode's sensor rate
    uniformly. Deterministic for a given seed.

    With make_driver (DAgger), the driver's torques move the arm and `tau` still records the
    expert's command at each sample (the label); info["applied_tau"] holds what was applied."""
    if n_episodes < 1 or not duration_s > 0.0:
        raise SimulatorError(
            f"need n_episodes >= 1 and duration_s > 0, got {n_episodes}, {duration_s}"
        )
    config = config if config is not None else RolloutConfig()
    dynamics = PinocchioDynamics(robot)
    runner = _EpisodeRunner(
        robot, dynamics, OperationalSpaceExpert(dynamics, config.gains), config, make_driver
    )
    seeds = np.random.default_rng(seed).integers(0, 2**31, n_episodes)
    return [runner.run(duration_s, rate_hz, jitter, int(s)) for s in seeds]


@dataclass
class _EpisodeRunner:
    robot: RobotDescription
    dynamics: PinocchioDynamics
    expert: OperationalSpaceExpert
    config: RolloutConfig
    make_driver: DriverFactory | None

    def run(
        self, duration_s: float, rate_hz: float | tuple[float, float], jitter: float, seed: int
    ) -> Trajectory:
        robot, config = self.robot, self.config
        rng = np.random.default_rng(seed)
        if not np.isscalar(rate_hz):
            rate_hz = float(rng.uniform(*rate_hz))
        sim = randomized_simulator(self.robot, rng, seed, self.config)
        schedule = TargetSchedule.random(
            self.dynamics,
            duration_s,
            seed,
            config.segment_s,
            config.moving_fraction,
            config.unreachable_fraction,
        )
        drive = self.make_driver() if self.make_driver is not None else None
        self.expert.reset()
        rows = TrajectoryRows()
        applied, target_velocities = [], []
        for t in sample_times(duration_s, rate_hz, jitter, seed):
            sim.advance_to(t)
            measured = sim.measure()
            target, target_velocity = schedule.target_at(t), schedule.velocity_at(t)
            tau = self.expert.torque(measured.q, measured.v, target, target_velocity)
            target_velocities.append(target_velocity)
            command = tau if drive is None else drive(t, measured.q, measured.v, target)
            applied.append(sim.apply(command))
            ee = self.dynamics.terms(measured.q, measured.v).ee_position
            rows.append(t, measured.q, measured.v, target, ee, tau)
        info = {
            "seed": seed,
            "rate_hz": rate_hz,
            "jitter": jitter,
            "mass_scale": sim.mass_scale,
            "target_velocity": np.array(target_velocities),  # m/s, the expert's privilege
        }
        if drive is not None:
            info["applied_tau"] = np.array(applied)
        return rows.trajectory(robot.name, robot.joint_names, info)
