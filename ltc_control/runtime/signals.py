"""Named signals: how a model's inputs and outputs map to robot quantities.

A model file lists input names such as `position/panda_joint1`, `velocity/panda_joint1`,
`target/x` and output names such as `effort/panda_joint1` (the joint torque) or
`effort_over_gravity/panda_joint1` (the torque on top of gravity compensation g(q), which the
controller adds back: a small network need not learn the arm's weight). Units: position rad (or
m), velocity rad/s, target m (world frame), effort N·m. Joint signals are matched by joint name,
never by the order of a message's arrays.

Senses computed from the robot model (the end effector's forward kinematics; world frame, axes
x|y|z): `ee_position/x` (m), `ee_error/x` (target - end effector, m), `ee_velocity/x` (m/s).
A model that names one needs the robot model at run time (`end_effector(q, v)` -> position,
velocity, e.g. PinocchioDynamics.end_effector); ObservationLayout computes them in one place for
the policy node, the closed-loop evaluator and training. `task_error/x` (m) is the error the
task-space law acts on (`task_error(q, v, target)`, the expert's: target - end effector, blended
far from the target with the joint path toward its inverse-kinematics goal pose): the part of the
robot model that plans, as a perception module would, so the network's job is the reaching.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ltc_control.errors import LtcControlError

JOINT_SIGNALS = ("position", "velocity")
TARGET_AXES = ("x", "y", "z")
MODEL_SENSES = {"ee_position": "m", "ee_error": "m", "ee_velocity": "m/s", "task_error": "m"}
END_EFFECTOR_SENSES = ("ee_position", "ee_error", "ee_velocity")  # from end_effector(q, v)
SIGNAL_UNITS = {"position": "rad", "velocity": "rad/s", "target": "m", **MODEL_SENSES}
# q (rad), v (rad/s) -> end-effector position (m) and velocity (m/s), world frame
EndEffectorState = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
# q (rad), v (rad/s), target (m) -> the task-space law's error (m), world frame; stateful (a goal
# pose per target): one per episode, called in sample order
TaskErrorSense = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class SignalError(LtcControlError, ValueError):
    """A message or model does not provide the signals the other side needs."""


def policy_input_names(joint_names: Sequence[str], senses: Sequence[str] = ()) -> list[str]:
    """The standard input layout: joint positions, joint velocities, target position, then the
    model senses asked for (MODEL_SENSES keys), x, y, z each."""
    unknown = sorted(set(senses) - set(MODEL_SENSES))
    if unknown:
        raise SignalError(f"unknown senses {unknown}; known: {list(MODEL_SENSES)}")
    names = [f"{kind}/{joint}" for kind in JOINT_SIGNALS for joint in joint_names]
    return names + [f"{kind}/{axis}" for kind in ("target", *senses) for axis in TARGET_AXES]


def signal_unit(name: str) -> str:
    return SIGNAL_UNITS[name.partition("/")[0]]


EFFORT = "effort"
EFFORT_OVER_GRAVITY = "effort_over_gravity"
# m/s², world frame, x|y|z: the end effector's acceleration, turned into joint torque by the
# expert's operational-space law (sim.expert.OperationalSpaceExpert.task_torque)
EE_ACCELERATION = "ee_acceleration"
# q (rad), v (rad/s), task acceleration (m/s²), target (m) -> joint torque (N·m)
TaskLaw = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def policy_output_names(joint_names: Sequence[str], kind: str = EFFORT_OVER_GRAVITY) -> list[str]:
    if kind == EE_ACCELERATION:
        return [f"{kind}/{axis}" for axis in TARGET_AXES]
    return [f"{kind}/{joint}" for joint in joint_names]


class ObservationLayout:
    """Builds a model's input vector from joint states and a target, by signal name (model
    senses through `end_effector` and `task_error`, each required when the model names a sense
    it gives)."""

    def __init__(
        self,
        input_names: Sequence[str],
        joint_names: Sequence[str],
        end_effector: EndEffectorState | None = None,
        task_error: TaskErrorSense | None = None,
    ) -> None:
        joints = {name: i for i, name in enumerate(joint_names)}
        self._sources: list[tuple[str, int]] = []
        for name in input_names:
            kind, _, key = name.partition("/")
            if kind in JOINT_SIGNALS and key in joints:
                self._sources.append((kind, joints[key]))
            elif kind in ("target", *MODEL_SENSES) and key in TARGET_AXES:
                self._sources.append((kind, TARGET_AXES.index(key)))
            else:
                raise SignalError(
                    f"model input '{name}' is not a known signal for joints {list(joint_names)}"
                )
        self.senses = sorted({kind for kind, _ in self._sources if kind in MODEL_SENSES})
        kinematic = [sense for sense in self.senses if sense in END_EFFECTOR_SENSES]
        for needed, given in ((kinematic, end_effector), ("task_error" in self.senses, task_error)):
            if needed and given is None:
                raise SignalError(
                    f"model inputs {self.senses} come from the robot model, but none was given"
                )
        self._end_effector = end_effector if kinematic else None
        self._task_error = task_error if "task_error" in self.senses else None
        self.size = len(self._sources)

    def build(self, position: np.ndarray, velocity: np.ndarray, target: np.ndarray) -> np.ndarray:
        signals = {"position": position, "velocity": velocity, "target": target}
        if self._end_effector is not None:
            ee_position, ee_velocity = self._end_effector(position, velocity)
            signals |= {
                "ee_position": ee_position,
                "ee_error": target - ee_position,
                "ee_velocity": ee_velocity,
            }
        if self._task_error is not None:
            signals["task_error"] = self._task_error(position, velocity, target)
        return np.array([signals[kind][index] for kind, index in self._sources])


def command_order(
    output_names: Sequence[str], joint_names: Sequence[str]
) -> tuple[np.ndarray, str]:
    """Index into the model output for each joint (robot joint order) or, for a task-space
    action, each axis (x, y, z), and the output kind."""
    outputs = {name: i for i, name in enumerate(output_names)}
    for kind in (EFFORT, EFFORT_OVER_GRAVITY, EE_ACCELERATION):
        wanted = policy_output_names(joint_names, kind)
        if all(name in outputs for name in wanted):
            return np.array([outputs[name] for name in wanted]), kind
    raise SignalError(
        f"model outputs {list(output_names)} are not '{EFFORT}/<joint>' or "
        f"'{EFFORT_OVER_GRAVITY}/<joint>' for every joint of {list(joint_names)}, nor "
        f"'{EE_ACCELERATION}/x|y|z'"
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
        self._names: tuple[str, ...] | None = None
        self._index = np.zeros(0, dtype=int)

    def __call__(self, message_names: Sequence[str], values: Sequence[float]) -> np.ndarray:
        if len(values) != len(message_names):
            raise SignalError(f"{len(message_names)} joint names but {len(values)} values")
        names = tuple(message_names)  # a message's list or a caller's tuple: equal by content
        if names != self._names:
            self._index = self._lookup(names)
            self._names = names
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
