"""Named signals: how a model's inputs and outputs map to robot quantities.

A model file lists input names such as `position/panda_joint1`, `velocity/panda_joint1`,
`target/x` and output names such as `effort/panda_joint1` (the joint torque) or
`effort_over_gravity/panda_joint1` (the torque on top of gravity compensation g(q), which the
controller adds back: a small network need not learn the arm's weight). Units: position rad (or
m), velocity rad/s, target m (world frame), effort N·m. Joint signals are matched by joint name,
never by the order of a message's arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ltc_control.errors import LtcControlError

JOINT_SIGNALS = ("position", "velocity")
TARGET_AXES = ("x", "y", "z")


class SignalError(LtcControlError, ValueError):
    """A message or model does not provide the signals the other side needs."""


def policy_input_names(joint_names: Sequence[str]) -> list[str]:
    """The standard input layout: joint positions, joint velocities, target position."""
    names = [f"{kind}/{joint}" for kind in JOINT_SIGNALS for joint in joint_names]
    return names + [f"target/{axis}" for axis in TARGET_AXES]


EFFORT = "effort"
EFFORT_OVER_GRAVITY = "effort_over_gravity"


def policy_output_names(joint_names: Sequence[str], kind: str = EFFORT_OVER_GRAVITY) -> list[str]:
    return [f"{kind}/{joint}" for joint in joint_names]


class ObservationLayout:
    """Builds a model's input vector from joint states and a target, by signal name."""

    def __init__(self, input_names: Sequence[str], joint_names: Sequence[str]) -> None:
        joints = {name: i for i, name in enumerate(joint_names)}
        self._sources: list[tuple[str, int]] = []
        for name in input_names:
            kind, _, key = name.partition("/")
            if kind in JOINT_SIGNALS and key in joints:
                self._sources.append((kind, joints[key]))
            elif kind == "target" and key in TARGET_AXES:
                self._sources.append((kind, TARGET_AXES.index(key)))
            else:
                raise SignalError(
                    f"model input '{name}' is not a known signal for joints {list(joint_names)}"
                )
        self.size = len(self._sources)

    def build(self, position: np.ndarray, velocity: np.ndarray, target: np.ndarray) -> np.ndarray:
        signals = {"position": position, "velocity": velocity, "target": target}
        return np.array([signals[kind][index] for kind, index in self._sources])


def command_order(
    output_names: Sequence[str], joint_names: Sequence[str]
) -> tuple[np.ndarray, str]:
    """Index into the model output for each joint (robot joint order), and the effort kind."""
    outputs = {name: i for i, name in enumerate(output_names)}
    for kind in (EFFORT, EFFORT_OVER_GRAVITY):
        if all(f"{kind}/{j}" in outputs for j in joint_names):
            return np.array([outputs[f"{kind}/{j}"] for j in joint_names]), kind
    raise SignalError(
        f"model outputs {list(output_names)} are not '{EFFORT}/<joint>' or "
        f"'{EFFORT_OVER_GRAVITY}/<joint>' for every joint of {list(joint_names)}"
    )


def match_joints(
    message_names: Sequence[str], values: Sequence[float], joint_names: Sequence[str]
) -> np.ndarray:
    """Values for `joint_names`, taken by name from a message (extra joints are ignored)."""
    return JointMatcher(joint_names)(message_names, values)


class JointMatcher:
    """match_joints for one robot's joints, remembering the name order of the last message: a
    joint-state stream repeats it in every message, so at 1 kHz the lookup runs once."""

    def __init__(self, joint_names: Sequence[str]) -> None:
        self.joint_names = tuple(joint_names)
        self._names: list[str] | None = None
        self._index = np.zeros(0, dtype=int)

    def __call__(self, message_names: Sequence[str], values: Sequence[float]) -> np.ndarray:
        if len(values) != len(message_names):
            raise SignalError(f"{len(message_names)} joint names but {len(values)} values")
        if message_names != self._names:
            self._index = self._lookup(message_names)
            self._names = list(message_names)
        result = np.asarray(values, dtype=float)[self._index]
        if not np.isfinite(result).all():
            raise SignalError(f"non-finite joint values {result.tolist()}")
        return result

    def _lookup(self, message_names: Sequence[str]) -> np.ndarray:
        index: dict[str, int] = {}
        for i, name in enumerate(message_names):
            if name in index:
                raise SignalError(f"joint '{name}' appears twice in the message")
            index[name] = i
        missing = [j for j in self.joint_names if j not in index]
        if missing:
            raise SignalError(f"message lacks joints {missing}")
        return np.array([index[j] for j in self.joint_names], dtype=int)
