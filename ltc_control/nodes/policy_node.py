"""Policy node: a liquid network (LTC/CfC, NCP wiring) driving the arm from its sensor topics.

Subscribes `joint_states` (sensor_msgs/JointState; joints matched by name) and `target`
           (geometry_msgs/PointStamped, world frame, m).
Publishes  `nominal_command` (sensor_msgs/JointState: name + effort N·m, stamped with the joint
           state that produced it) and `policy_state` (ltc_control/PolicyState: neuron
           activities, elapsed time, model id, counters).
           `/diagnostics` (steps, refusals by reason, compute time, deadline overruns).
           For a BarrierNet model (outputs `cbf_gain/...`, training.barrier) also
           `barrier_gains` (ltc_control/BarrierGains: the class-K gains for each nominal command,
           1/s, stamped like it; control.barrier_gains maps the raw outputs as training did,
           around the gains of `safety_config`).
Service    `~/reset` (std_srvs/Trigger): forget the hidden state (a new episode).

The network steps on accepted joint states at most `control_rate_hz` (the rate it was trained at;
a faster joint-state stream, e.g. a 1 kHz torque loop, is decimated), with the time between the
stamps of its steps as its elapsed time (see control.stamps for what is refused: repeated, out-of-order, stale and future stamps).
Refused messages are counted in PolicyState.rejected_messages and logged (throttled).
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger

from ltc_control.control.barrier_gains import GainOutputs
from ltc_control.control.policy_controller import PolicyStep
from ltc_control.control.stamps import StampClock
from ltc_control.evaluation.closed_loop import deployed_controller
from ltc_control.msg import BarrierGains, PolicyState
from ltc_control.nodes.diagnostics import OK, WARN, diagnostic_array
from ltc_control.nodes.fields import as_float64_array, header_stamp, to_seconds
from ltc_control.nodes.parameters import (
    ParameterSpec,
    declare_parameters,
    warn_unknown_parameters,
)
from ltc_control.nodes.spin import AfterQueuedEvents, run_nodes
from ltc_control.nodes.target_node import TARGET_QOS
from ltc_control.nodes.timing import ComputeTimer
from ltc_control.resources import shipped_policy
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime import load_policy
from ltc_control.safety.config import load_safety_config

NODE_NAME = "policy"
PARAMETERS = (
    ParameterSpec("robot", "panda", "robot description name or YAML path", read_only=True),
    ParameterSpec(
        "model_file",
        "",
        "policy model file (.npz); empty = the shipped policy for the robot",
        read_only=True,
    ),
    ParameterSpec(
        "control_rate_hz",
        100.0,
        "policy step rate (the rate it was trained at); faster joint states are skipped, Hz",
        1.0,
        5000.0,
    ),
    ParameterSpec("max_dt", 0.1, "longest elapsed time given to the network, s", 1e-4, 10.0),
    ParameterSpec(
        "max_age", 0.5, "joint states older than this on arrival are refused, s", 1e-3, 60.0
    ),
    ParameterSpec(
        "future_tolerance", 0.05, "stamps this far ahead of the clock are refused, s", 0.0, 10.0
    ),
    ParameterSpec(
        "reset_jump", 0.5, "a clock jump backwards beyond this resets the network, s", 1e-3, 1e6
    ),
    ParameterSpec("publish_policy_state", True, "publish PolicyState after every step"),
    ParameterSpec(
        "safety_config",
        "",
        "safety config whose gains a BarrierNet model's outputs scale; empty = the robot's",
        read_only=True,
    ),
    ParameterSpec("diagnostics_period", 1.0, "period of /diagnostics, s", 0.01, 60.0),
)


class PolicyNode(Node):
    def __init__(self, **node_kwargs: object) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        p = declare_parameters(self, PARAMETERS)
        self.unknown_parameters = warn_unknown_parameters(self)
        robot = load_robot_description(p["robot"])
        self.robot_name = robot.name
        model_file = p["model_file"] or str(shipped_policy(robot.name))
        self.policy = load_policy(model_file)
        period = 1.0 / p["control_rate_hz"]
        clock = StampClock(
            period, p["max_dt"], p["max_age"], p["future_tolerance"], p["reset_jump"]
        )
        self.controller, self.task_law = deployed_controller(
            self.policy, robot, PinocchioDynamics(robot), clock, min_period=period
        )
        self.timer = ComputeTimer(period)
        # Advertised for every model (the filter's subscription always meets a publisher, so a
        # launch file's remaps are checked alike), published only for a BarrierNet model.
        self.gains_pub = self.create_publisher(BarrierGains, "barrier_gains", 10)
        self.gain_outputs = None
        if GainOutputs.present(self.policy.output_names):
            safety = load_safety_config(p["safety_config"] or robot.name)
            self.gain_outputs = GainOutputs(self.policy.output_names, safety.gains_by_name())
            self._gains_msg = BarrierGains(names=list(self.gain_outputs.names))
        self._refusals_logged = 0
        self.publish_policy_state = p["publish_policy_state"]
        self.command_pub = self.create_publisher(JointState, "nominal_command", 10)
        self._command_msg = JointState(name=list(self.controller.joint_names))
        self._state_msg = PolicyState(
            model_id=self.policy.model_id,
            neuron_names=list(self.policy.neuron_names),
            neuron_groups=list(self.policy.neuron_groups),
            command_names=list(self.controller.joint_names),
        )
        self.state_pub = self.create_publisher(PolicyState, "policy_state", 10)
        # Raw: a 1 kHz stream is decimated to the policy's rate from the header stamp alone,
        # without deserialising the messages it skips (in one process with the torque loop,
        # this callback runs between the filter's answer and its delivery to the robot, so the
        # step itself waits until that answer is out).
        self.create_subscription(JointState, "joint_states", self._on_raw_joint_state, 10, raw=True)
        self._step_later = AfterQueuedEvents(self, max_wait_s=period)
        self.create_subscription(PointStamped, "target", self._on_target, TARGET_QOS)
        self.create_service(Trigger, "~/reset", self._on_reset)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_timer(p["diagnostics_period"], self._publish_diagnostics)
        self._reported = (0, 0)  # refusals and overruns at the last report
        self.get_logger().info(f"policy {self.policy.model_id} from {model_file} for {robot.name}")

    def _on_target(self, msg: PointStamped) -> None:
        if not self.controller.set_target([msg.point.x, msg.point.y, msg.point.z]):
            self.get_logger().warning("non-finite target refused", throttle_duration_sec=1.0)

    def _on_raw_joint_state(self, serialized: bytes) -> None:
        stamp = header_stamp(serialized)
        if stamp is not None and self.controller.skips(stamp):
            return
        self._step_later.submit(
            lambda: self._on_joint_state(deserialize_message(serialized, JointState))
        )

    def _on_joint_state(self, msg: JointState) -> None:
        with self.timer:
            now = self.get_clock().now().nanoseconds * 1e-9
            step = self.controller.on_joint_state(
                msg.name, msg.position, msg.velocity, to_seconds(msg.header.stamp), now
            )
            if step is None:
                self._log_refusals()
                return
            if self.gain_outputs is not None:  # first: the filter has them when the command lands
                gains = self._gains_msg
                gains.header = msg.header
                gains.gains = as_float64_array(self.gain_outputs(step.outputs))
                self.gains_pub.publish(gains)
            command = self._command_msg  # reused: publish() serialises it at once
            command.header = msg.header
            command.effort = as_float64_array(step.command)
            self.command_pub.publish(command)
        if self.publish_policy_state:
            self.state_pub.publish(self._policy_state(msg, step))

    def _log_refusals(self) -> None:
        refused = sum(self.controller.rejections.values())
        if refused > self._refusals_logged:
            self._refusals_logged = refused
            self.get_logger().warning(
                f"joint state refused: {dict(self.controller.rejections)}",
                throttle_duration_sec=1.0,
            )

    def _policy_state(self, msg: JointState, step: PolicyStep) -> PolicyState:
        state = self._state_msg  # names and groups set once; reused like the command
        state.header = msg.header
        state.elapsed_time = step.elapsed
        state.step_count = self.controller.steps
        state.neuron_activity = as_float64_array(self.policy.state)
        state.nominal_command = as_float64_array(step.command)
        state.compute_time_us = self.timer.last_us
        state.deadline_overruns = self.timer.overruns
        state.rejected_messages = sum(self.controller.rejections.values())
        return state

    def _publish_diagnostics(self) -> None:
        refusals = sum(self.controller.rejections.values())
        level, message = OK, "stepping"
        if self.controller.target is None:
            level, message = WARN, "waiting for a target"
        elif (refusals, self.timer.overruns) != self._reported:
            level, message = WARN, "refusing inputs or overrunning the control period"
        self._reported = (refusals, self.timer.overruns)
        counters = {
            "model_id": self.policy.model_id,
            "steps": self.controller.steps,
            "skipped": self.controller.skipped,
            **self.controller.rejections,
        }
        self.diagnostics_pub.publish(
            diagnostic_array(
                self, "liquid policy", self.robot_name, level, message, self.timer, counters
            )
        )

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.controller.reset()
        self.task_law.reset()
        response.success, response.message = True, f"hidden state of {self.policy.model_id} reset"
        return response


def main(args: list[str] | None = None) -> int:
    return run_nodes([PolicyNode], args)
