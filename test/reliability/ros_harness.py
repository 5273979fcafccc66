"""The policy and safety filter nodes in one process, driven over real DDS topics by a probe node
that plays the robot (publishes /clock, joint_states, target; may inject nominal_command) and
records what leaves (commands, safety_status, /diagnostics, policy_state).

Sim time is used (the probe owns /clock), so the watchdog and stamps are deterministic: nothing
happens between ticks unless the test advances the clock.
"""

from __future__ import annotations

import bisect
import functools
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import yaml
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from reliability_cases import PANDA, unsafe_reason
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from ltc_control.msg import PolicyState, SafetyStatus
from ltc_control.nodes.fields import time_msg
from ltc_control.nodes.target_node import TARGET_QOS
from ltc_control.resources import robot_config
from ltc_control.safety import SafetyFilter

DT = 0.01  # s, the control period of config/panda/ros.yaml
DIAGNOSTICS_PERIOD = 0.05  # s of sim time (5 ticks), so tests see /diagnostics quickly
HOME = PANDA.home
ZERO = np.zeros(PANDA.dof)
FILTERED, FALLBACK, WATCHDOG = (
    SafetyStatus.MODE_FILTERED,
    SafetyStatus.MODE_FALLBACK,
    SafetyStatus.MODE_WATCHDOG,
)


@functools.cache
def harness_parameters() -> Path:
    """config/panda/ros.yaml with a SafetyStatus on every cycle: the checks read each one."""
    params = yaml.safe_load(robot_config("panda", "ros").read_text())
    params["safety_filter"]["ros__parameters"]["status_every"] = 1
    path = Path(tempfile.mkdtemp(prefix="ltc_reliability_")) / "panda.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def node_args(*extra: str, model_file: Path | None = None, sim_time: bool = True) -> list[str]:
    args = ["--ros-args", "--params-file", str(harness_parameters())]
    args += ["-p", f"use_sim_time:={str(sim_time).lower()}"]
    if model_file is not None:
        args += ["-p", f"model_file:={model_file}"]
    for item in extra:
        args += ["-p", item]
    return args


def joint_state(
    stamp: float,
    q: Sequence[float] = HOME,
    v: Sequence[float] = ZERO,
    names: Sequence[str] | None = None,
) -> JointState:
    msg = JointState(
        name=list(PANDA.joint_names if names is None else names),
        position=[float(x) for x in q],
        velocity=[float(x) for x in v],
    )
    msg.header.stamp = time_msg(stamp) if stamp >= 0 else time_msg(0.0)
    return msg


class Probe(Node):
    """Plays the robot and records the outputs."""

    def __init__(self, context: object) -> None:
        super().__init__("reliability_probe", context=context, use_global_arguments=False)
        self.clock_pub = self.create_publisher(Clock, "/clock", 10)
        self.joint_pub = self.create_publisher(JointState, "joint_states", 10)
        self.nominal_pub = self.create_publisher(JointState, "nominal_command", 10)
        self.target_pub = self.create_publisher(PointStamped, "target", TARGET_QOS)
        self.commands: list[np.ndarray] = []
        self.statuses: list[SafetyStatus] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.policy_states: list[PolicyState] = []
        # Every joint state the filter accepts, with its stamp (ns): a status stamped t answers
        # the newest one stamped <= t (the oracle's state).
        self.valid_states: list[tuple[int, np.ndarray, np.ndarray]] = [(0, HOME, ZERO)]
        self.create_subscription(
            Float64MultiArray, "commands", lambda m: self.commands.append(np.array(m.data)), 100
        )
        self.create_subscription(
            SafetyStatus, "safety_status", lambda m: self.statuses.append(m), 100
        )
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 100)
        self.create_subscription(
            PolicyState, "policy_state", lambda m: self.policy_states.append(m), 100
        )

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        # Every node publishes /diagnostics; the fault checks read the safety filter's.
        if msg.status and msg.status[0].name.endswith("safety filter"):
            self.diagnostics.append(msg)

    def set_clock(self, t: float) -> None:
        self.clock_pub.publish(Clock(clock=time_msg(t)))

    def publish_target(self, point: Sequence[float] = (0.5, 0.0, 0.5)) -> None:
        msg = PointStamped()
        msg.point.x, msg.point.y, msg.point.z = (float(c) for c in point)
        self.target_pub.publish(msg)


class Loop:
    """Policy + safety filter + probe on one EventsExecutor, in a fresh rclpy context."""

    def __init__(
        self,
        context: object,
        model_file: Path,
        filter_params: Sequence[str] = (),
        with_policy: bool = True,
        sim_time: bool = True,
    ) -> None:
        from ltc_control.nodes.policy_node import PolicyNode
        from ltc_control.nodes.safety_filter_node import SafetyFilterNode
        from ltc_control.nodes.spin import make_executor

        self.probe = Probe(context)
        self.safety = SafetyFilterNode(
            context=context,
            cli_args=node_args(
                f"diagnostics_period:={DIAGNOSTICS_PERIOD}",
                *filter_params,
                sim_time=sim_time,
            ),
            use_global_arguments=False,
        )
        self.nodes: list[Node] = [self.probe, self.safety]
        self.policy = None
        if with_policy:
            self.policy = PolicyNode(
                context=context,
                cli_args=node_args(model_file=model_file, sim_time=sim_time),
                use_global_arguments=False,
            )
            self.nodes.append(self.policy)
        self.executor = make_executor(context)
        for node in self.nodes:
            self.executor.add_node(node)
        self.sim_time = sim_time
        self.t = 1.0 if sim_time else time.time()
        # The oracle's rows use the node's own configuration (its control period is derived
        # from the control rate, 10 ms here, not the 1 ms of config/panda/safety.yaml).
        self.reference = SafetyFilter(PANDA, self.safety.config)

    # -- driving ------------------------------------------------------------------------------
    def spin_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            self.executor.spin_once(timeout_sec=0.005)
        return True

    def spin_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.005)

    def start(self) -> None:
        """Clock and target up, then good ticks until the filter filters."""
        if self.sim_time:
            self.probe.set_clock(self.t)
        self.probe.publish_target()
        assert self.spin_until(lambda: self.tick() and self.mode() == FILTERED, 20.0), (
            "the loop never reached MODE_FILTERED"
        )

    def tick(
        self,
        q: Sequence[float] = HOME,
        v: Sequence[float] = ZERO,
        message: JointState | None = None,
        valid: bool = True,
        wait: bool = True,
        timeout: float = 1.0,
    ) -> bool:
        """Advance the clock one period and publish a joint state (a good one by default).

        `valid`: whether the filter will accept it (the oracle then uses it as the filter's
        state). Waits for the safety status answering it (stamped at this tick's clock); False
        if none came within `timeout` s.
        """
        self.advance_clock()
        now_ns = _ns(self.t)
        if valid:
            state = (now_ns, np.asarray(q, float), np.asarray(v, float))
            self.probe.valid_states.append(state)
        self.probe.joint_pub.publish(joint_state(self.t, q, v) if message is None else message)
        if not wait:
            return True
        seen = len(self.probe.statuses)
        return self.spin_until(
            lambda: any(_ns_of(s) >= now_ns for s in self.probe.statuses[seen:]), timeout
        )

    def advance_clock(self) -> None:
        """One period of sim time (published on /clock), or the wall clock's now."""
        if not self.sim_time:
            self.t = time.time()
            return
        self.t += DT
        self.probe.set_clock(self.t)
        # Every node on the new time before the joint state goes out: a status stamped t then
        # answers the state stamped t.
        local = [n for n in (self.safety, self.policy) if n is not None]
        self.spin_until(
            lambda: all(n.get_clock().now().nanoseconds == _ns(self.t) for n in local), 1.0
        )

    def recover(self, ticks: int = 40) -> bool:
        """Good input again: True once the filter is back in MODE_FILTERED."""
        for _ in range(ticks):
            self.tick()
            if self.mode() == FILTERED:
                return True
        return False

    # -- reading ------------------------------------------------------------------------------
    def mode(self) -> int | None:
        return self.probe.statuses[-1].mode if self.probe.statuses else None

    def last_status(self) -> SafetyStatus:
        return self.probe.statuses[-1]

    def diagnostics(self) -> list[dict[str, object]]:
        """Every safety-filter /diagnostics received: level (int), message and the key/values."""
        return [
            {"level": _level(d.status[0].level), "message": d.status[0].message}
            | {kv.key: kv.value for kv in d.status[0].values}
            for d in self.probe.diagnostics
        ]

    def diagnostics_counter(self, key: str) -> int:
        """The largest value of a /diagnostics counter so far, after one more /diagnostics
        (good ticks until it comes: the timer runs on sim time)."""
        seen = len(self.probe.diagnostics)
        for _ in range(round(6 * DIAGNOSTICS_PERIOD / DT)):
            self.tick()
            if len(self.probe.diagnostics) > seen:
                break
        assert len(self.probe.diagnostics) > seen, "no /diagnostics"
        return max(int(d[key]) for d in self.diagnostics())

    def unsafe_outputs(self) -> list[str]:
        """Every published command and status checked against the oracle."""
        problems = [
            f"command {i}: {r}"
            for i, u in enumerate(self.probe.commands)
            if (r := unsafe_reason(self.reference, None, None, u, False))
        ]
        stamps = [t for t, _, _ in self.probe.valid_states]
        for i, status in enumerate(self.probe.statuses):
            index = max(bisect.bisect_right(stamps, _ns_of(status)) - 1, 0)
            _, q, v = self.probe.valid_states[index]
            filtered = status.mode == FILTERED
            command, gains = np.array(status.safe_command), np.array(status.gains)
            reason = unsafe_reason(self.reference, q, v, command, filtered, gains)
            if reason:
                problems.append(f"status {i} (mode {status.mode}, {status.reason}): {reason}")
        return problems

    def close(self) -> None:
        for node in self.nodes:
            node.destroy_node()
        self.executor.shutdown()


def _ns(t: float) -> int:
    return round(t * 1e9)


def _ns_of(msg: SafetyStatus) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def _level(level: bytes | int) -> int:
    return level[0] if isinstance(level, bytes) else int(level)
