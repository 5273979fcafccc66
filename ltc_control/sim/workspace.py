"""Where a robot's end effector can go: a sampled point cloud, and the plane of a planar arm.

Promises:
- `Workspace.of(dynamics)` samples joint positions uniformly inside the joint limits (seeded,
  deterministic) and keeps their end-effector positions (m, world frame) as the reachable cloud.
- Every sampled reachable point lies within `max_reach` of `center`: a point farther than that plus
  a margin is out of reach.
- For a planar arm (all joint axes parallel, e.g. the double pendulum) `plane` is its motion plane
  (unit normal n, offset d with n·p = d) and `project` moves any point onto it; otherwise `plane`
  is None and `project` is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltc_control.robots.dynamics import RobotDynamics

_IN_LIMIT_SAMPLES = 3000
_PLANAR_TOLERANCE = 1e-9
_CACHE: dict[tuple[str, str], Workspace] = {}


@dataclass(frozen=True)
class Plane:
    normal: np.ndarray  # (3,), unit
    offset: float  # m: normal · p for every p in the plane

    def project(self, point: np.ndarray) -> np.ndarray:
        return point - (self.normal @ point - self.offset) * self.normal


@dataclass(frozen=True)
class Workspace:
    reachable: np.ndarray  # (n, 3), m: end-effector points with joints inside the limits
    poses: np.ndarray  # (n, dof), rad: the joint positions of those points
    center: np.ndarray  # (3,), m: centroid of the reachable cloud
    max_reach: float  # m: largest distance of a reachable point from center
    plane: Plane | None

    @classmethod
    def of(cls, dynamics: RobotDynamics, seed: int = 0) -> Workspace:
        """The workspace of dynamics.robot (cached per robot description file)."""
        robot = dynamics.robot
        key = (robot.name, str(robot.source))
        if key not in _CACHE:
            _CACHE[key] = cls._sample(dynamics, seed)
        return _CACHE[key]

    @classmethod
    def _sample(cls, dynamics: RobotDynamics, seed: int) -> Workspace:
        robot = dynamics.robot
        rng = np.random.default_rng(seed)
        lower, upper = robot.limits.lower, robot.limits.upper
        inside = rng.uniform(lower, upper, (_IN_LIMIT_SAMPLES, robot.dof))
        reachable = _end_effector_points(dynamics, inside)
        center = reachable.mean(axis=0)
        return cls(
            reachable=reachable,
            poses=inside,
            center=center,
            max_reach=float(np.linalg.norm(reachable - center, axis=1).max()),
            plane=_motion_plane(dynamics, inside[:20], reachable[0]),
        )

    def nearest_pose(self, point: np.ndarray) -> np.ndarray:
        """The sampled joint positions (rad) whose end effector lies nearest `point` (m)."""
        return self.poses[np.argmin(np.linalg.norm(self.reachable - point, axis=1))]

    def project(self, point: np.ndarray) -> np.ndarray:
        """The nearest point the arm's motion can address (its plane, if planar)."""
        point = np.asarray(point, dtype=float)
        return point if self.plane is None else self.plane.project(point)


def _end_effector_points(dynamics: RobotDynamics, qs: np.ndarray) -> np.ndarray:
    zero = np.zeros(qs.shape[1])
    return np.array([dynamics.terms(q, zero).ee_position for q in qs])


def _motion_plane(
    dynamics: RobotDynamics, qs: np.ndarray, point_in_plane: np.ndarray
) -> Plane | None:
    """The plane every end-effector velocity lies in, if there is one (rank-2 Jacobians)."""
    zero = np.zeros(qs.shape[1])
    stacked = np.hstack([dynamics.terms(q, zero).ee_jacobian for q in qs])
    left, singular, _ = np.linalg.svd(stacked)
    if singular[-1] > _PLANAR_TOLERANCE * max(singular[0], 1.0) or singular[1] <= 1e-6:
        return None
    normal = left[:, 2]
    return Plane(normal=normal, offset=float(normal @ point_in_plane))
