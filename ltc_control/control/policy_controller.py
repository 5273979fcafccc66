"""The stateful policy loop, free of ROS: joint states and targets in, nominal torque out.

Promises:
- The network keeps its hidden state across messages and steps with the real time between
  message stamps (StampClock decides what a stamp is worth; refused messages change nothing).
- Joints are matched by name; a message that lacks a joint, repeats one, or carries non-finite
  values is refused with a reason (counted per reason in `rejections`).
- Values the network cannot take (finite in float64 but not in the model's dtype, e.g. 1e300 rad)
  are refused as `network_input`; a non-finite network output is refused as `network_output` and
  the hidden state is reset (a NaN state would poison every later step). Neither raises.
- No command before a target has arrived.
- With `min_period`, the network steps at most that often (its trained rate) on a faster stream
  of joint states; the messages in between are skipped and counted in `skipped`.
- If the model outputs torque over gravity compensation (`effort_over_gravity/<joint>`, see
  runtime.signals), g(q) from the robot's dynamics is added back here.
- Model senses (end-effector position, error, velocity; runtime.signals) are computed from the
  measured joint state with `end_effector` (the robot model), required if the model names one;
  the `task_error` sense with `task_error` (the task law's, reset with it: see
  evaluation.deployed_controller).
- A task-space action (`ee_acceleration/x|y|z`, m/s²) becomes joint torque through `task_law`
  (the expert's operational-space law, required for such a model), so the command is always a
  joint torque (what the safety filter takes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ltc_control.control.stamps import StampClock, StampVerdict
from ltc_control.runtime.errors import RuntimeInputError
from ltc_control.runtime.signals import (
    EE_ACCELERATION,
    EFFORT_OVER_GRAVITY,
    EndEffectorState,
    JointMatcher,
    ObservationLayout,
    SignalError,
    TaskErrorSense,
    TaskLaw,
    command_order,
)


@dataclass(frozen=True)
class PolicyStep:
    """One accepted network step."""

    stamp: float  # s, of the joint state that triggered it
    elapsed: float  # s, dt given to the network
    command: np.ndarray  # N·m, in the robot's joint order
    verdict: StampVerdict
    outputs: np.ndarray  # the network's raw output vector (e.g. a BarrierNet model's gains)


class PolicyController:
    def __init__(
        self,
        policy: object,
        joint_names: Sequence[str],
        clock: StampClock,
        gravity: Callable[[np.ndarray], np.ndarray] | None = None,
        min_period: float = 0.0,
        end_effector: EndEffectorState | None = None,
        task_law: TaskLaw | None = None,
        task_error: TaskErrorSense | None = None,
    ) -> None:
        self.policy = policy
        self.min_period = min_period  # s; faster joint states are skipped (not refused)
        self.skipped = 0
        self.joint_names = tuple(joint_names)
        self._match = JointMatcher(self.joint_names)
        self.clock = clock
        self.layout = ObservationLayout(
            policy.input_names, self.joint_names, end_effector, task_error
        )
        self._order, kind = command_order(policy.output_names, self.joint_names)
        self._gravity = gravity if kind == EFFORT_OVER_GRAVITY else None
        if kind == EFFORT_OVER_GRAVITY and gravity is None:
            raise SignalError("model outputs torque over gravity but no gravity model was given")
        self._task_law = task_law if kind == EE_ACCELERATION else None
        if kind == EE_ACCELERATION and task_law is None:
            raise SignalError(
                "model outputs an end-effector acceleration but no task law was given"
            )
        self.target: np.ndarray | None = None
        self.rejections: Counter[str] = Counter()
        self.steps = 0

    def reset(self) -> None:
        """Forget the hidden state and the last stamp (a new episode)."""
        self.policy.reset()
        self.clock.reset()
        self.steps = 0

    def skips(self, stamp: float) -> bool:
        """True (and counted as skipped) if a joint state with this stamp would only be skipped
        by the decimation: the caller may then leave the message unparsed."""
        if self.target is None or self._due(stamp):
            return False
        self.skipped += 1
        return True

    def _due(self, stamp: float) -> bool:
        """A step is due once min_period has passed since the last step's stamp.

        The network then runs at its trained rate on a faster joint-state stream; stamps that
        are not later than the last one go on to the clock, which judges them.
        """
        last = self.clock.last_stamp
        return last is None or not stamp > last or stamp - last >= 0.95 * self.min_period

    def set_target(self, target: Sequence[float]) -> bool:
        value = np.asarray(target, dtype=float)
        if value.shape != (3,) or not np.all(np.isfinite(value)):
            self.rejections["bad_target"] += 1
            return False
        self.target = value
        return True

    def on_joint_state(
        self,
        names: Sequence[str],
        position: Sequence[float],
        velocity: Sequence[float],
        stamp: float,
        now: float,
    ) -> PolicyStep | None:
        """Step the network on one joint-state message; None if the message was refused."""
        if self.target is None:
            self.rejections["no_target_yet"] += 1
            return None
        if self.skips(stamp):  # decimated before parsing: most messages of a fast stream
            return None
        try:
            q = self._match(names, position)
            v = self._match(names, velocity)
        except SignalError:
            self.rejections["bad_joint_state"] += 1
            return None
        verdict, dt = self.clock.elapsed(stamp, now)
        if not verdict.accepted:
            self.rejections[verdict.value] += 1
            return None
        if verdict is StampVerdict.CLOCK_RESET:
            self.policy.reset()
            self.steps = 0
        try:
            output = self.policy.step(self.layout.build(q, v, self.target), dt)
        except RuntimeInputError:  # the runtime leaves the state unchanged
            self.rejections["network_input"] += 1
            return None
        outputs = np.asarray(output, dtype=float).reshape(-1)
        command = outputs[self._order]
        if self._gravity is not None:
            command = command + self._gravity(q)
        if self._task_law is not None and np.all(np.isfinite(command)):
            command = self._task_law(q, v, command, self.target)
        if not np.all(np.isfinite(command)):
            self.rejections["network_output"] += 1
            self.policy.reset()
            return None
        self.steps += 1
        return PolicyStep(stamp, dt, command, verdict, outputs)
