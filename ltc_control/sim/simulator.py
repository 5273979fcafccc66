"""Torque-controlled MuJoCo simulation of a RobotDescription, with what a real arm adds on top.

Promises:
- The model is robots.mujoco_model.build_mujoco_model(robot): the same URDF the dynamics backends
  read, joint-torque motors clamped to the effort limits, an end-effector contact sphere and a table.
- Units SI: time s, joint positions rad, velocities rad/s, torques N·m, positions m (world frame,
  z up), forces N. Arrays are float64, joints in RobotDescription.joint_names order.
- `apply(torque)` holds the command (clamped to the effort limits) until the next call;
  `advance(duration_s)` runs a whole number of physics steps and never drifts: it steps to the
  physics step nearest to the sum of all requested durations.
- `measure()` adds the configured Gaussian noise to q and v; `true_state()` is noise-free. The
  contact force is what MuJoCo computes between END_EFFECTOR_GEOM and TABLE_GEOM: the force the
  table exerts on the end effector, in the world frame (pressing down on the table gives +z).
- SimConfig.mass_scale perturbs the robot's link masses and inertias (model mismatch against the
  nominal pinocchio model the controller and safety filter use).
- Sensor rate and timing jitter belong to whoever samples: `sample_times` yields the instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import mujoco
import numpy as np

from ltc_control.errors import LtcControlError
from ltc_control.robots.description import RobotDescription
from ltc_control.robots.mujoco_model import (
    END_EFFECTOR_GEOM,
    END_EFFECTOR_SITE,
    TABLE_GEOM,
    build_mujoco_model,
    joint_addresses,
)


class SimulatorError(LtcControlError, ValueError):
    """A simulator input (configuration, state, torque, duration) is malformed or out of range."""


@dataclass(frozen=True)
class SimConfig:
    """How the simulated arm differs from the nominal model, and how its sensors misbehave."""

    physics_dt: float = 0.001  # s
    # Multiplies mass and inertia of every robot body: one float, or one value per body in
    # ArmSimulator.body_names order (see random_mass_scale for a seeded ±spread draw).
    mass_scale: float | Sequence[float] = 1.0
    # Extra per-body factor drawn uniformly from [1 - mass_spread, 1 + mass_spread] with `seed`.
    mass_spread: float = 0.0
    q_noise_std: float = 0.0  # rad, Gaussian, added by measure()
    v_noise_std: float = 0.0  # rad/s, Gaussian, added by measure()
    seed: int = 0  # seeds the sensor noise and the mass_spread draw

    def __post_init__(self) -> None:
        if not (np.isfinite(self.physics_dt) and 0.0 < self.physics_dt <= 0.01):
            raise SimulatorError(f"physics_dt must be in (0, 0.01] s, got {self.physics_dt}")
        scale = np.asarray(self.mass_scale, dtype=float)
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0.0):
            raise SimulatorError(f"mass_scale must be positive and finite, got {self.mass_scale}")
        if not 0.0 <= self.mass_spread < 1.0:
            raise SimulatorError(f"mass_spread must be in [0, 1), got {self.mass_spread}")
        for key in ("q_noise_std", "v_noise_std"):
            value = getattr(self, key)
            if not (np.isfinite(value) and value >= 0.0):
                raise SimulatorError(f"{key} must be finite and >= 0, got {value}")


@dataclass(frozen=True)
class Measurement:
    """What the sensors report at one instant (q, v possibly noisy; the rest exact)."""

    time: float  # s, simulation time
    q: np.ndarray  # (dof,), rad
    v: np.ndarray  # (dof,), rad/s
    tau_applied: np.ndarray  # (dof,), N·m, the command after clamping to the effort limits
    ee_position: np.ndarray  # (3,), m, world
    contact_force: np.ndarray = field(default_factory=lambda: np.zeros(3))  # (3,), N, world
    contact_normal_force: float = 0.0  # N, >= 0


def random_mass_scale(n_bodies: int, spread: float, seed: int) -> np.ndarray:
    """Per-body mass scales drawn uniformly from [1 - spread, 1 + spread] (e.g. spread=0.1)."""
    if not 0.0 <= spread < 1.0:
        raise SimulatorError(f"mass spread must be in [0, 1), got {spread}")
    return np.random.default_rng(seed).uniform(1.0 - spread, 1.0 + spread, n_bodies)


def sample_times(
    duration_s: float, rate_hz: float, jitter: float = 0.0, seed: int = 0, start_s: float = 0.0
) -> np.ndarray:
    """Sensor sample instants in [start_s, start_s + duration_s]: nominal period 1/rate_hz, each
    interval scaled by (1 + jitter * u), u uniform in [-1, 1] (jitter is a fraction, < 1)."""
    if not (np.isfinite(rate_hz) and rate_hz > 0.0):
        raise SimulatorError(f"rate_hz must be positive, got {rate_hz}")
    if not 0.0 <= jitter < 1.0:
        raise SimulatorError(f"jitter must be a fraction in [0, 1), got {jitter}")
    if not (np.isfinite(duration_s) and duration_s >= 0.0):
        raise SimulatorError(f"duration_s must be >= 0, got {duration_s}")
    period = 1.0 / rate_hz
    count = int(np.ceil(duration_s * rate_hz / (1.0 - jitter))) + 1
    intervals = period * (1.0 + jitter * np.random.default_rng(seed).uniform(-1, 1, count))
    times = start_s + np.concatenate(([0.0], np.cumsum(intervals)))
    return times[times <= start_s + duration_s + 1e-12]


class ArmSimulator:
    """One simulated arm. Not thread-safe; one instance per episode loop."""

    def __init__(self, robot: RobotDescription, config: SimConfig | None = None) -> None:
        self.robot = robot
        self.config = config if config is not None else SimConfig()
        self.model = build_mujoco_model(robot, self.config.physics_dt)
        self.data = mujoco.MjData(self.model)
        self._qpos, self._qvel = joint_addresses(self.model, robot)
        self._actuators = np.array(
            [self.model.actuator(f"{n}_motor").id for n in robot.joint_names]
        )
        self._ctrl_range = self.model.actuator_ctrlrange[self._actuators].copy()
        self._site = self.model.site(END_EFFECTOR_SITE).id
        self._contact_pair = {self.model.geom(END_EFFECTOR_GEOM).id, self.model.geom(TABLE_GEOM).id}
        self._ee_geom = self.model.geom(END_EFFECTOR_GEOM).id
        self.body_names = tuple(self.model.body(i).name for i in range(1, self.model.nbody))
        self.mass_scale = self._scale_masses()
        self._rng = np.random.default_rng(self.config.seed)
        self.reset()

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def dof(self) -> int:
        return self.robot.dof

    def reset(self, q: np.ndarray | None = None, v: np.ndarray | None = None) -> None:
        """Back to time 0 at (q, v) (default: home, at rest), zero command, no contact history."""
        q = self.robot.home if q is None else self._vector(q, "q")
        v = np.zeros(self.dof) if v is None else self._vector(v, "v")
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[self._qpos] = q
        self.data.qvel[self._qvel] = v
        self._requested_time = 0.0
        mujoco.mj_forward(self.model, self.data)

    def apply(self, torque: np.ndarray) -> np.ndarray:
        """Command joint torques (N·m), held until changed; returns them clamped to the limits."""
        torque = self._vector(torque, "torque")
        clamped = np.clip(torque, self._ctrl_range[:, 0], self._ctrl_range[:, 1])
        self.data.ctrl[self._actuators] = clamped
        return clamped.copy()

    def advance(self, duration_s: float) -> int:
        """Simulate duration_s seconds (>= 0) under the held command; returns the steps taken."""
        if not (np.isfinite(duration_s) and duration_s >= 0.0):
            raise SimulatorError(f"duration_s must be finite and >= 0, got {duration_s}")
        return self.advance_to(self._requested_time + duration_s)

    def advance_to(self, time_s: float) -> int:
        """Simulate up to the physics step nearest time_s (s, not before the last request)."""
        if not (np.isfinite(time_s) and time_s >= self._requested_time - 1e-12):
            raise SimulatorError(
                f"cannot advance to t={time_s} s: already asked for t={self._requested_time} s"
            )
        self._requested_time = time_s
        steps = max(0, round((self._requested_time - self.time) / self.config.physics_dt))
        for _ in range(steps):
            mujoco.mj_step(self.model, self.data)
        if not np.isfinite(self.data.qpos).all():
            raise SimulatorError(f"simulation diverged at t={self.time:.4f} s")
        return steps

    def true_state(self) -> Measurement:
        """The exact state (no sensor noise)."""
        force, normal = self._contact()
        return Measurement(
            time=self.time,
            q=self.data.qpos[self._qpos].copy(),
            v=self.data.qvel[self._qvel].copy(),
            tau_applied=self.data.ctrl[self._actuators].copy(),
            ee_position=self.data.site_xpos[self._site].copy(),
            contact_force=force,
            contact_normal_force=normal,
        )

    def measure(self, exact: Measurement | None = None) -> Measurement:
        """The sensors' view: Gaussian noise on q and v of `exact`, the true state (default: read
        now; a caller that just read it passes it)."""
        exact = self.true_state() if exact is None else exact
        return Measurement(
            time=exact.time,
            q=exact.q + self._rng.normal(0.0, self.config.q_noise_std, self.dof),
            v=exact.v + self._rng.normal(0.0, self.config.v_noise_std, self.dof),
            tau_applied=exact.tau_applied,
            ee_position=exact.ee_position,
            contact_force=exact.contact_force,
            contact_normal_force=exact.contact_normal_force,
        )

    def _contact(self) -> tuple[np.ndarray, float]:
        """Total force of the table on the end effector (world, N) and its normal part (N)."""
        force, normal = np.zeros(3), 0.0
        wrench = np.zeros(6)
        contacts = self.data.contact
        for i in range(self.data.ncon):
            geoms = (int(contacts.geom1[i]), int(contacts.geom2[i]))
            if set(geoms) != self._contact_pair:
                continue
            mujoco.mj_contactForce(self.model, self.data, i, wrench)
            frame = contacts.frame[i].reshape(3, 3)  # rows: normal, tangent 1, tangent 2
            # The wrench is geom1's push on geom2 along the normal geom1 -> geom2; flip it when
            # the end effector is geom1, so the result is always "table on end effector".
            sign = 1.0 if geoms[1] == self._ee_geom else -1.0
            force += sign * frame.T @ wrench[:3]
            normal += wrench[0]
        return force, float(normal)

    def _scale_masses(self) -> np.ndarray:
        """Scale the robot bodies' masses and inertias; returns the per-body factors used."""
        n_bodies = len(self.body_names)
        scale = np.asarray(self.config.mass_scale, dtype=float)
        if scale.ndim == 0:
            scale = np.full(n_bodies, float(scale))
        if scale.shape != (n_bodies,):
            raise SimulatorError(
                f"mass_scale needs one value per body ({n_bodies}: "
                f"{', '.join(self.body_names)}), got shape {scale.shape}"
            )
        if self.config.mass_spread > 0.0:
            scale = scale * random_mass_scale(n_bodies, self.config.mass_spread, self.config.seed)
        self.model.body_mass[1:] *= scale
        self.model.body_inertia[1:] *= scale[:, None]
        mujoco.mj_setConst(self.model, self.data)
        return scale

    def _vector(self, values: np.ndarray, name: str) -> np.ndarray:
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            array = np.full(0, np.nan)
        if array.shape != (self.dof,) or not np.isfinite(array).all():
            raise SimulatorError(
                f"{name} must be {self.dof} finite numbers ({', '.join(self.robot.joint_names)}), "
                f"got {values!r}"
            )
        return array.copy()


class Randomization(Protocol):
    """What randomized_simulator draws from (rollout and evaluation configs both carry it)."""

    mass_spread: float  # per-body mass scale in 1 ± spread
    q_noise_std: float  # rad
    v_noise_std: float  # rad/s
    initial_offset: float  # rad, around home
    initial_speed: float  # rad/s


def randomized_simulator(
    robot: RobotDescription, rng: np.random.Generator, seed: int, randomization: Randomization
) -> ArmSimulator:
    """A perturbed arm (masses, sensor noise seeded by `seed`) at a random state near home:
    q within ±initial_offset of home (inside the limits), v within ±initial_speed."""
    r = randomization
    config = SimConfig(
        mass_spread=r.mass_spread, q_noise_std=r.q_noise_std, v_noise_std=r.v_noise_std, seed=seed
    )
    sim = ArmSimulator(robot, config)
    offset = rng.uniform(-r.initial_offset, r.initial_offset, robot.dof)
    q0 = np.clip(robot.home + offset, robot.limits.lower, robot.limits.upper)
    sim.reset(q0, rng.uniform(-r.initial_speed, r.initial_speed, robot.dof))
    return sim
