"""The task: reach and track end-effector target positions that change over time.

A TargetSchedule is what a `/target` topic would deliver: a sequence of segments, each starting at
a time (s) and either holding a point or moving it smoothly (a circle, or a line traversed back and
forth). Positions are m, world frame. Each segment carries a label saying what the target asks for:
- "reachable": inside the workspace with the joints inside their limits, above the table top;
- "below_table": over the table, below its top face (the arm must stop on the table);
- "out_of_reach": farther from the workspace centre than any point reachable with the joints
  inside their limits (so also "beyond the joint limits"; a sampled test for points reachable only
  beyond the limits was unreliable for the 7-DoF arm, so there is no separate label).
Moving segments are centred on reachable points; parts of a circle may leave the workspace (that
is part of the task). For a planar arm every target lies in its motion plane.

`TargetSchedule.random(dynamics, duration_s, seed, ...)` is deterministic for a given seed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from ltc_control.errors import LtcControlError
from ltc_control.robots.dynamics import RobotDynamics
from ltc_control.sim.workspace import Workspace

TARGET_LABELS = ("reachable", "below_table", "out_of_reach")
SEGMENT_KINDS = ("hold", "circle", "line")
_TABLE_CLEARANCE = 0.03  # m above the contact sphere touching the table top


class TaskError(LtcControlError, ValueError):
    """A target schedule or its generation parameters are malformed."""


@dataclass(frozen=True)
class TargetSegment:
    """From `start` (s) on: hold `origin`, or move it.

    circle: origin + cos(w t) a + sin(w t) b; line: origin + (1 - cos(w t)) / 2 a, with
    w = 2 pi / period and t the time since `start`.
    """

    start: float
    kind: str
    label: str
    origin: np.ndarray
    a: np.ndarray
    b: np.ndarray
    period: float = 1.0

    def position(self, t: float) -> np.ndarray:
        if self.kind == "hold":
            return self.origin.copy()
        phase = 2.0 * np.pi * (t - self.start) / self.period
        if self.kind == "circle":
            return self.origin + np.cos(phase) * self.a + np.sin(phase) * self.b
        return self.origin + 0.5 * (1.0 - np.cos(phase)) * self.a

    def velocity(self, t: float) -> np.ndarray:
        """d position / dt (m/s): what only the expert is told (privileged; policies see the
        stream of positions)."""
        if self.kind == "hold":
            return np.zeros(3)
        w = 2.0 * np.pi / self.period
        phase = w * (t - self.start)
        if self.kind == "circle":
            return w * (np.cos(phase) * self.b - np.sin(phase) * self.a)
        return 0.5 * w * np.sin(phase) * self.a


class TargetSchedule:
    """End-effector targets over time; `target_at(t)` holds the first segment before its start."""

    def __init__(self, segments: list[TargetSegment]) -> None:
        if not segments:
            raise TaskError("a target schedule needs at least one segment")
        starts = [s.start for s in segments]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise TaskError(f"segment starts must be strictly increasing, got {starts}")
        for segment in segments:
            if segment.kind not in SEGMENT_KINDS or segment.label not in TARGET_LABELS:
                raise TaskError(f"unknown segment kind/label {segment.kind}/{segment.label}")
            vectors = (segment.origin, segment.a, segment.b)
            if not all(np.shape(x) == (3,) and np.all(np.isfinite(x)) for x in vectors):
                raise TaskError("segment points must be 3 finite numbers (m)")
            if not segment.period > 0.0:
                raise TaskError(f"segment period must be > 0 s, got {segment.period}")
        self.segments = list(segments)
        self._starts = starts

    @classmethod
    def constant(cls, point: np.ndarray, label: str = "reachable") -> TargetSchedule:
        zero = np.zeros(3)
        return cls([TargetSegment(0.0, "hold", label, np.asarray(point, float), zero, zero)])

    def segment_at(self, t: float) -> TargetSegment:
        return self.segments[max(0, bisect.bisect_right(self._starts, t) - 1)]

    def target_at(self, t: float) -> np.ndarray:
        """Target position (3,), m, world frame, at time t (s)."""
        return self.segment_at(t).position(t)

    def velocity_at(self, t: float) -> np.ndarray:
        """Target velocity (3,), m/s, world frame, at time t (s); a jump between segments is
        not a velocity."""
        return self.segment_at(t).velocity(t)

    def label_at(self, t: float) -> str:
        return self.segment_at(t).label

    @classmethod
    def random(
        cls,
        dynamics: RobotDynamics,
        duration_s: float,
        seed: int,
        segment_s: tuple[float, float] = (1.5, 3.0),
        moving_fraction: float = 0.3,
        unreachable_fraction: float = 0.2,
    ) -> TargetSchedule:
        """Seeded random segments covering [0, duration_s]. The first is always a reachable
        hold; `unreachable_fraction` of the others are below the table or out of reach (equal
        shares), `moving_fraction` of the reachable ones move."""
        low, high = segment_s
        if not (0.0 < low <= high and duration_s > 0.0):
            raise TaskError(f"need 0 < segment_s[0] <= segment_s[1], duration > 0: {segment_s}")
        for name, fraction in (("moving", moving_fraction), ("unreachable", unreachable_fraction)):
            if not 0.0 <= fraction <= 1.0:
                raise TaskError(f"{name}_fraction must be in [0, 1], got {fraction}")
        sampler = _TargetSampler(dynamics, np.random.default_rng(seed))
        segments, start = [], 0.0
        while start < duration_s:
            first = not segments
            if not first and sampler.rng.random() < unreachable_fraction:
                segments.append(sampler.unreachable(start))
            elif not first and sampler.rng.random() < moving_fraction:
                segments.append(sampler.moving(start))
            else:
                segments.append(sampler.hold(start, sampler.reachable_point(), "reachable"))
            start += float(sampler.rng.uniform(low, high))
        return cls(segments)

    @classmethod
    def tracking(cls, dynamics: RobotDynamics, seed: int, hold_s: float = 1.0) -> TargetSchedule:
        """A reachable hold for `hold_s` (s), then a target moving away from that very point
        (circle or line, seeded): tracking with no second approach to blur it."""
        if not hold_s > 0.0:
            raise TaskError(f"hold_s must be > 0 s, got {hold_s}")
        sampler = _TargetSampler(dynamics, np.random.default_rng(seed))
        point = sampler.workspace.project(sampler.reachable_point())
        return cls([sampler.hold(0.0, point, "reachable"), sampler.moving(hold_s, origin=point)])


def label_target(dynamics: RobotDynamics, point: np.ndarray) -> str:
    """What a fixed target asks for (TARGET_LABELS), by the rules the sampler draws with: over
    the table below its top face is "below_table", else farther from the workspace centre than
    any reachable point is "out_of_reach", anything else "reachable". (The sampler may draw a
    point below the table that is also out of reach, and label it either way: both are
    unreachable.)"""
    robot, workspace = dynamics.robot, Workspace.of(dynamics)
    point = workspace.project(np.asarray(point, dtype=float))
    table = robot.table
    over_table = np.all(
        np.abs(point[:2] - np.asarray(table.center)) <= 0.5 * np.asarray(table.size)
    )
    if over_table and point[2] < table.height:
        return "below_table"
    if np.linalg.norm(point - workspace.center) > workspace.max_reach:
        return "out_of_reach"
    return "reachable"


class _TargetSampler:
    """Draws segment points from the robot's sampled workspace."""

    def __init__(self, dynamics: RobotDynamics, rng: np.random.Generator) -> None:
        self.rng = rng
        self.workspace = Workspace.of(dynamics)
        robot = dynamics.robot
        self.table = robot.table
        lowest = robot.table.height + robot.end_effector.contact_radius + _TABLE_CLEARANCE
        cloud = self.workspace.reachable
        self._reachable = cloud[cloud[:, 2] >= lowest]
        self._over_table = cloud[self._over_table_mask(cloud)]

    def _over_table_mask(self, points: np.ndarray) -> np.ndarray:
        offset = np.abs(points[:, :2] - np.asarray(self.table.center))
        return np.all(offset <= 0.45 * np.asarray(self.table.size), axis=1)

    def _pick(self, points: np.ndarray) -> np.ndarray:
        return points[self.rng.integers(len(points))].copy()

    def reachable_point(self) -> np.ndarray:
        return self._pick(self._reachable)

    def hold(self, start: float, point: np.ndarray, label: str) -> TargetSegment:
        zero = np.zeros(3)
        return TargetSegment(start, "hold", label, self.workspace.project(point), zero, zero)

    def unreachable(self, start: float) -> TargetSegment:
        labels = ["out_of_reach"]
        if len(self._over_table):
            labels.append("below_table")
        label = labels[self.rng.integers(len(labels))]
        if label == "below_table":
            point = self._pick(self._over_table)
            point[2] = self.table.height - self.rng.uniform(0.02, 0.10)
        else:
            point = self._out_of_reach_point()
        return self.hold(start, point, label)

    def _out_of_reach_point(self) -> np.ndarray:
        ws = self.workspace
        direction = ws.project(ws.center + self.rng.normal(size=3)) - ws.center
        direction /= np.linalg.norm(direction)
        distance = ws.max_reach * self.rng.uniform(1.15, 1.5)
        return ws.center + distance * direction

    def moving(self, start: float, origin: np.ndarray | None = None) -> TargetSegment:
        """A circle or line starting at `origin` (default: a new reachable point)."""
        origin = self.reachable_point() if origin is None else origin
        u, w = self._plane_axes()
        period = float(self.rng.uniform(2.0, 6.0))
        if self.rng.random() < 0.5:
            radius = float(self.rng.uniform(0.03, 0.12))
            center = origin - radius * u  # the circle starts at the reachable point
            return TargetSegment(
                start, "circle", "reachable", center, radius * u, radius * w, period
            )
        end = self.reachable_point()
        return TargetSegment(
            start,
            "line",
            "reachable",
            origin,
            self.workspace.project(end) - origin,
            np.zeros(3),
            period,
        )

    def _plane_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Two orthonormal directions: random, or spanning the arm's plane if it is planar."""
        plane = self.workspace.plane
        normal = plane.normal if plane is not None else _unit(self.rng.normal(size=3))
        u = _unit(np.cross(normal, self.rng.normal(size=3)))
        return u, np.cross(normal, u)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)
