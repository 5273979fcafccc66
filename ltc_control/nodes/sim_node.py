"""Simulator node: the embedded MuJoCo arm as a ros2_control-like robot.

Publishes  /clock (rosgraph_msgs/Clock, sim time), `joint_states` (sensor_msgs/JointState:
           position rad, velocity rad/s, effort = applied torque N·m) and `contact_wrench` (geometry_msgs/WrenchStamped: force of the table on the end
           effector, world frame, N).
Subscribes `commands` (std_msgs/Float64MultiArray, N·m, joint order of the robot description):
           remap to `/<controller>/commands`, as an effort controller would receive it.

Two pacing modes. Real time: a wall timer advances one control period per tick. Lockstep (for
demos and benchmarks): the sim advances as soon as the command answering the last joint state
arrives, or after `step_timeout` (s, wall) with the previous command held (a missed command;
before the first command ever arrives, the sim is waiting for its controller, not missing
commands); faster than real time and independent of machine load. Malformed commands are
refused and counted; the previous command is held.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import WrenchStamped
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from ltc_control.errors import ConfigError
from ltc_control.nodes.diagnostics import OK, WARN, diagnostic_array
from ltc_control.nodes.fields import as_float64_array, time_msg
from ltc_control.nodes.parameters import (
    ParameterSpec,
    declare_parameters,
    warn_unknown_parameters,
)
from ltc_control.nodes.spin import fast_timer_callback, run_nodes
from ltc_control.nodes.timing import ComputeTimer, RecentSamples
from ltc_control.robots import load_robot_description
from ltc_control.sim.simulator import ArmSimulator, SimConfig, SimulatorError

NODE_NAME = "sim"
LATENCY_WINDOW = 100_000  # latest command latencies kept
PARAMETERS = (
    ParameterSpec("robot", "panda", "robot description name or YAML path", read_only=True),
    ParameterSpec("physics_dt", 0.001, "physics step, s", 1e-4, 0.01, read_only=True),
    ParameterSpec("publish_rate_hz", 100.0, "joint_states rate = control rate, Hz", 1.0, 2000.0),
    ParameterSpec("lockstep", True, "advance when the command arrives instead of on a wall timer"),
    ParameterSpec("step_timeout", 0.05, "lockstep: wall time to wait for a command, s", 1e-4, 5.0),
    ParameterSpec(
        "wall_clock_stamps",
        False,
        "real-time mode only: stamp with the wall clock and publish no /clock, like a real robot",
    ),
    ParameterSpec(
        "duration",
        0.0,
        "sim time after which the node stops stepping, s (0 = run forever)",
        0.0,
        1e6,
    ),
    ParameterSpec("q_noise_std", 0.0, "joint position sensor noise std, rad", 0.0, 0.1),
    ParameterSpec("v_noise_std", 0.0, "joint velocity sensor noise std, rad/s", 0.0, 1.0),
    ParameterSpec("diagnostics_period", 1.0, "period of /diagnostics (wall time), s", 0.01, 60.0),
    ParameterSpec("seed", 0, "sensor noise seed", 0, 2**31 - 1),
)


class CommandLatency:
    """Wall time from publishing a joint state to the command that answers it.

    ros2_control commands carry no stamp, but the filter answers every joint state it hears
    once and in order, so a command answers the oldest joint state still unanswered. An answer
    that arrives after the next state went out is `late`: the sim stepped once more on the
    previous command (a missed cycle). A state with `ANSWER_WINDOW` newer states published and
    still no answer is `dropped`. A command with nothing pending (a watchdog's braking command)
    answers nothing.

    A state nobody heard would shift every later pairing by one (each answer paired with the
    state before its own: every answer "late", every latency one period too long). That happens
    at start-up: the sim publishes before the filter has subscribed, so the first command
    answers the newest state and the older ones are forgotten (`unheard`). Mid-run, the sim
    calls `resync()` when it waited in vain although a command came after its newest state.
    """

    ANSWER_WINDOW = 50

    def __init__(self) -> None:
        # Bounded: a sim may run for days at 1 kHz; benchmarks read well under this many.
        self.samples_s = RecentSamples(LATENCY_WINDOW)
        self.recent_s = RecentSamples(1000)  # what /diagnostics summarises
        self.late = 0
        self.dropped = 0
        self.unheard = 0
        self.commands = 0
        self.answered_since_publish = False  # a command arrived after the newest state went out
        self._pending: deque[float] = deque()

    def state_published(self, now: float) -> None:
        if len(self._pending) == self.ANSWER_WINDOW:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(now)
        self.answered_since_publish = False

    def command_arrived(self, now: float) -> bool:
        """Pair the command with its state; True if it answers the newest state published."""
        self.commands += 1
        self.answered_since_publish = True
        if not self._pending:
            return False
        if self.commands == 1:  # the states before the loop closed reached no one
            self.resync(keep_newest=True)
        latency = now - self._pending.popleft()
        self.samples_s.append(latency)
        self.recent_s.append(latency)
        if self._pending:
            self.late += 1
            return False
        return True

    def resync(self, keep_newest: bool = False) -> None:
        """Forget the pending states (all, or all but the newest) as never heard."""
        keep = 1 if keep_newest and self._pending else 0
        while len(self._pending) > keep:
            self._pending.popleft()
            self.unheard += 1

    @property
    def unanswered(self) -> int:
        """States published and not answered yet (in flight, or on their way to `dropped`)."""
        return len(self._pending)

    def reset(self) -> None:
        """Zero the figures (e.g. after a warm-up); states in flight stay paired with theirs."""
        self.samples_s.clear()
        self.recent_s.clear()
        self.late = self.dropped = self.unheard = 0


class SimNode(Node):
    def __init__(self, **node_kwargs: object) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_parameters(self, PARAMETERS)
        self.unknown_parameters = warn_unknown_parameters(self)
        robot = load_robot_description(p["robot"])
        self.joint_names = list(robot.joint_names)
        config = SimConfig(
            physics_dt=p["physics_dt"],
            q_noise_std=p["q_noise_std"],
            v_noise_std=p["v_noise_std"],
            seed=p["seed"],
        )
        self.sim = ArmSimulator(robot, config)
        self.period = 1.0 / p["publish_rate_hz"]
        self.rejected_commands = 0
        self.missed_commands = 0
        self.steps_before_first_command = 0  # lockstep timeouts while no controller answered
        self.latency = CommandLatency()
        self.finished = False
        self._awaiting_since = time.monotonic()
        self.clock_pub = self.create_publisher(Clock, "/clock", 10)
        self.joint_pub = self.create_publisher(JointState, "joint_states", 10)
        self._joint_msg = JointState(name=self.joint_names)
        self._wrench_msg = WrenchStamped()
        self._wrench_msg.header.frame_id = "world"
        self.wrench_pub = self.create_publisher(WrenchStamped, "contact_wrench", 10)
        self.create_subscription(Float64MultiArray, "commands", self._on_command, 10)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.compute = ComputeTimer(self.period)
        self._reported = (0, 0)
        # The node runs on wall time (it produces /clock; use_sim_time stays false for it).
        self.create_timer(p["diagnostics_period"], self._publish_diagnostics)
        if p["lockstep"] and p["wall_clock_stamps"]:
            raise ConfigError(
                "parameter 'wall_clock_stamps' needs lockstep false (a real-time sim)"
            )
        timer_period = min(p["step_timeout"], self.period) if p["lockstep"] else self.period
        self.timer = self.create_timer(timer_period, fast_timer_callback(self._on_timer))
        self.publish_state()

    def _on_command(self, msg: Float64MultiArray) -> None:
        answers_newest = self.latency.command_arrived(time.perf_counter())
        try:
            self.sim.apply(np.asarray(msg.data, dtype=float))
        except SimulatorError as exc:
            self.rejected_commands += 1
            self.get_logger().warning(
                f"command refused ({self.rejected_commands} so far): {exc}",
                throttle_duration_sec=1.0,
            )
            return
        # Lockstep: a late answer to an older state is held, not stepped on; stepping on it too
        # would leave two states in flight for good (every later answer one cycle late).
        if self.params["lockstep"] and answers_newest:
            self.step()

    def _on_timer(self) -> None:
        if not self.params["lockstep"]:
            self.step()
        elif time.monotonic() - self._awaiting_since > self.params["step_timeout"]:
            if not self.latency.commands:
                self.steps_before_first_command += 1  # no controller yet: nothing was missed
            else:
                self.missed_commands += 1
            if self.latency.answered_since_publish:
                self.latency.resync()  # a command came, paired with a state nobody heard
            self.step()

    def step(self) -> None:
        """Advance one control period under the held command, then publish what the sensors see."""
        duration = self.params["duration"]
        if self.finished:
            return
        with self.compute:
            self.sim.advance(self.period)
            self.publish_state()
        if duration and self.sim.time >= duration - 1e-9:
            self.finished = True
            self.get_logger().info(f"reached {duration:.2f} s of sim time; holding")

    def _publish_diagnostics(self) -> None:
        problems = (self.rejected_commands, self.missed_commands)
        if not self.latency.commands:
            level, message = WARN, "no command received yet: is a controller running?"
        elif problems != self._reported:
            level, message = WARN, "commands refused or missed"
        else:
            level, message = OK, "simulating"
        self._reported = problems
        latency = self.latency.recent_s
        counters = {
            "sim_time_s": round(self.sim.time, 3),
            "rejected_commands": self.rejected_commands,
            "missed_commands": self.missed_commands,
            "steps_before_first_command": self.steps_before_first_command,
            "late_answers": self.latency.late,
            "dropped_states": self.latency.dropped,
            "unheard_states": self.latency.unheard,
            "command_latency_p50_ms": round(latency.percentiles((50,))[0] * 1e3, 3)
            if len(latency)
            else "",
        }
        self.diagnostics_pub.publish(
            diagnostic_array(
                self, "simulator", self.sim.robot.name, level, message, self.compute, counters
            )
        )

    def publish_state(self) -> None:
        """/clock (sim time), the wrench, then /joint_states last: the loop answers the joint
        state, and whatever this callback did after publishing it would delay that answer."""
        measurement = self.sim.measure()
        if self.params["wall_clock_stamps"]:
            stamp = self.get_clock().now().to_msg()
        else:
            stamp = time_msg(measurement.time)
            self.clock_pub.publish(Clock(clock=stamp))
        wrench = self._wrench_msg  # reused: publish() serialises it at once
        wrench.header.stamp = stamp
        force = wrench.wrench.force
        force.x, force.y, force.z = (float(f) for f in measurement.contact_force)
        self.wrench_pub.publish(wrench)
        joints = self._joint_msg
        joints.header.stamp = stamp
        joints.position = as_float64_array(measurement.q)
        joints.velocity = as_float64_array(measurement.v)
        joints.effort = as_float64_array(measurement.tau_applied)
        self._awaiting_since = time.monotonic()
        self.latency.state_published(time.perf_counter())
        self.joint_pub.publish(joints)


def main(args: list[str] | None = None) -> int:
    return run_nodes([SimNode], args)
