"""Trajectory: the one time-series type of an episode, shared by the simulator's rollouts, the
closed-loop evaluation, rosbag2 I/O, curation, training and the explain tools. Row i is one
sensor sample:

    t[i]            s, since the episode start (strictly increasing)
    q[i], v[i]      rad, rad/s: the measured (noisy) joint state, joints in `joint_names` order
    target[i]       m, world frame: the target known at t[i]
    ee_position[i]  m, world frame: the end effector at t[i]; expert rollouts and recordings hold
                    forward kinematics of the measured q[i] (what a real robot would compute),
                    closed-loop evaluation the simulator's true position (what tracking is
                    scored on)
    tau[i]          N·m: the command computed from row i and held until t[i + 1]; a label (the
                    expert's command) when another controller drove: info["applied_tau"]
                    (rollouts) or info["nominal_tau"] (evaluation) then holds what that
                    controller commanded
    dt[i]           s: t[i] - t[i - 1]; dt[0] = 0 (no previous sample)

`info` carries provenance (seed, rate, mass scale, ...); it is not compared by `equals`.
`TrajectoryRows` collects rows while an episode runs and becomes a Trajectory at its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

from ltc_control.data.errors import DataError

TRAJECTORY_ARRAYS = ("t", "q", "v", "target", "ee_position", "tau")


@dataclass
class Trajectory:
    """One episode of samples (see the module docstring for units and meaning)."""

    robot: str
    joint_names: tuple[str, ...]
    t: np.ndarray  # (n,)
    q: np.ndarray  # (n, dof)
    v: np.ndarray  # (n, dof)
    target: np.ndarray  # (n, 3)
    ee_position: np.ndarray  # (n, 3)
    tau: np.ndarray  # (n, dof)
    info: dict[str, object] = field(default_factory=dict)  # provenance (seed, mass scale, ...)

    def __post_init__(self) -> None:
        n, dof = len(self.t), len(self.joint_names)
        shapes = {"t": (n,), "q": (n, dof), "v": (n, dof), "target": (n, 3)}
        shapes |= {"ee_position": (n, 3), "tau": (n, dof)}
        for name, shape in shapes.items():
            array = np.asarray(getattr(self, name), dtype=float)
            if array.shape != shape:
                raise DataError(f"Trajectory.{name} must have shape {shape}, got {array.shape}")
            setattr(self, name, array)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def dt(self) -> np.ndarray:
        return np.diff(self.t, prepend=self.t[:1])

    def slice(self, index: slice | np.ndarray) -> Trajectory:
        """The rows selected by `index` (a slice or boolean/integer index), same metadata."""
        return replace(self, **{name: getattr(self, name)[index] for name in TRAJECTORY_ARRAYS})

    def equals(self, other: Trajectory, atol: float = 0.0) -> bool:
        """Same robot, joints and arrays (to `atol`); `info` is not compared."""
        same_meta = (self.robot, self.joint_names) == (other.robot, other.joint_names)
        return same_meta and all(
            getattr(self, f.name).shape == getattr(other, f.name).shape
            and np.allclose(getattr(self, f.name), getattr(other, f.name), atol=atol, rtol=0.0)
            for f in fields(self)
            if f.name in TRAJECTORY_ARRAYS
        )


class TrajectoryRows:
    """Rows appended while an episode runs (one per sensor sample), then `trajectory()`."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in TRAJECTORY_ARRAYS}

    def __len__(self) -> int:
        return len(self.columns["t"])

    def append(
        self,
        t: float,
        q: np.ndarray,
        v: np.ndarray,
        target: np.ndarray,
        ee_position: np.ndarray,
        tau: np.ndarray,
    ) -> None:
        for name, value in zip(TRAJECTORY_ARRAYS, (t, q, v, target, ee_position, tau), strict=True):
            self.columns[name].append(value)

    def trajectory(
        self, robot: str, joint_names: tuple[str, ...], info: dict[str, object]
    ) -> Trajectory:
        return Trajectory(
            robot=robot,
            joint_names=tuple(joint_names),
            **{name: np.array(values) for name, values in self.columns.items()},
            info=info,
        )
