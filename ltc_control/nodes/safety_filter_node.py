"""Safety filter node (managed): the last thing between a network and the motors.

Subscribes `joint_states` (sensor_msgs/JointState, matched by name), `nominal_command`
           (sensor_msgs/JointState: effort N·m, from the policy node) and `barrier_gains`
           (ltc_control/BarrierGains, from a BarrierNet policy: class-K gains per nominal command,
           matched to it by stamp in FilterLoop).
Publishes  `commands` (std_msgs/Float64MultiArray, N·m, the robot's joint order: remap to
           `/<effort_controller>/commands`), `safety_status` (ltc_control/SafetyStatus) and
           `/diagnostics` (diagnostic_msgs/DiagnosticArray: OK / WARN / ERROR).

An adapter of the same shape as the policy node: the loop's decisions live in the ROS-free
control.FilterLoop (every accepted joint state answered with one command, the nominal command
held between policy steps, waiting for the first nominal command, watchdog, braking on any
exception, refused stamps and names); this node turns messages into its calls and its
FilterStatus into SafetyStatus, commands and /diagnostics. The watchdog is checked on every joint
state, and every quarter `watchdog_timeout` by a timer in case the states stop. Deactivation,
and SIGINT/SIGTERM, publish a final braking command first. Filter parameters (`filter.*`,
defaults from config/<robot>/safety.yaml) can be tightened at run time, never loosened past the
robot description; a refused update is logged and counted with the rejected messages.
BarrierNet mode: FilterLoop filters each nominal command with the gains stamped like it (else the
configured gains, counted as stale); SafetyStatus reports the gains used and the counts.
/diagnostics: ERROR while braking, WARN while waiting for the first nominal command, inactive,
or when overruns or refused inputs exceeded 1 % of the cycles of the last diagnostics period;
else OK.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import LifecycleNode, State, TransitionCallbackReturn
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from ltc_control.control.filter_loop import (
    FALLBACK,
    FILTERED,
    WAITING,
    WATCHDOG,
    FilterLoop,
    FilterStatus,
    RecentTrouble,
)
from ltc_control.errors import ConfigError
from ltc_control.msg import BarrierGains, SafetyStatus
from ltc_control.nodes.diagnostics import diagnostic_array
from ltc_control.nodes.fields import as_float64_array, to_seconds
from ltc_control.nodes.parameters import (
    ParameterSpec,
    declare_parameters,
    warn_unknown_parameters,
)
from ltc_control.nodes.spin import AfterQueuedEvents, run_nodes
from ltc_control.nodes.timing import ComputeTimer
from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyConfig, SafetyFilter, load_safety_config

NODE_NAME = "safety_filter"
FILTER_PREFIX = "filter."
PARAMETERS = (
    ParameterSpec("robot", "panda", "robot description name or YAML path", read_only=True),
    ParameterSpec(
        "control_rate_hz",
        1000.0,
        "torque loop rate = joint_states rate (QP hold period, deadline, watchdog checks), Hz",
        1.0,
        5000.0,
    ),
    ParameterSpec(
        "watchdog_timeout",
        0.05,
        "brake when a joint state or command is older than this, s",
        1e-3,
        10.0,
    ),
    ParameterSpec("diagnostics_period", 1.0, "period of /diagnostics, s", 0.01, 60.0),
    ParameterSpec(
        "status_every",
        1,
        "publish SafetyStatus every n-th filtered cycle (always on a change of mode, and on braking)",
        1,
        1000,
    ),
    ParameterSpec(
        "autostart", True, "configure and activate at start-up (else wait for a lifecycle manager)"
    ),
    ParameterSpec(
        "busy_poll",
        False,
        "the process polls for work instead of blocking: fewer missed 1 kHz cycles, more CPU",
        read_only=True,
    ),
)
_MODES = {
    FILTERED: SafetyStatus.MODE_FILTERED,
    FALLBACK: SafetyStatus.MODE_FALLBACK,
    WATCHDOG: SafetyStatus.MODE_WATCHDOG,
    WAITING: SafetyStatus.MODE_WAITING,
}


class SafetyFilterNode(LifecycleNode):
    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.busy_poll = self.params["busy_poll"]  # serve() spins the process accordingly
        self.robot = load_robot_description(self.params["robot"])
        self.config = self._declare_filter_parameters(load_safety_config(self.robot.name))
        self.unknown_parameters = warn_unknown_parameters(self)
        self._command_msg = Float64MultiArray()  # reused: publish() serialises it at once
        # Per activation: created in on_configure, dropped in on_cleanup.
        self.filter: SafetyFilter | None = None
        self.loop: FilterLoop | None = None
        self.timer: ComputeTimer | None = None
        self.trouble: RecentTrouble | None = None
        self._status_later: AfterQueuedEvents | None = None
        self.last_status = SafetyStatus(mode=SafetyStatus.MODE_INACTIVE)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        if self.params["autostart"]:
            self.trigger_configure()
            self.trigger_activate()

    # --- lifecycle --------------------------------------------------------------------------
    def on_configure(self, state: State) -> TransitionCallbackReturn:
        self.filter = SafetyFilter(self.robot, self.config)
        self.loop = FilterLoop(self.filter, self.params["watchdog_timeout"])
        self.timer = ComputeTimer(1.0 / self.params["control_rate_hz"])
        self.trouble = RecentTrouble()
        self._filtered_cycles = 0  # for status_every
        self.last_status = SafetyStatus(
            mode=SafetyStatus.MODE_INACTIVE,
            joint_names=list(self.robot.joint_names),
            constraint_names=list(self.filter.constraint_names),
            gain_names=list(self.filter.gain_names),
        )
        self._status_mode = self.last_status.mode  # of the latest status requested
        self._status_later = AfterQueuedEvents(
            self, max_wait_s=self.params["status_every"] / self.params["control_rate_hz"]
        )
        self.command_pub = self.create_lifecycle_publisher(Float64MultiArray, "commands", 10)
        self.status_pub = self.create_lifecycle_publisher(SafetyStatus, "safety_status", 10)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.subscriptions_ = [
            self.create_subscription(JointState, "joint_states", self._on_joint_state, 10),
            self.create_subscription(JointState, "nominal_command", self._on_nominal, 10),
            self.create_subscription(BarrierGains, "barrier_gains", self._on_gains, 10),
        ]
        self.timers_ = [
            # Every joint state checks the watchdog; this timer covers states that stop coming.
            self.create_timer(self.params["watchdog_timeout"] / 4, self._on_watchdog_timer),
            self.create_timer(self.params["diagnostics_period"], self._publish_diagnostics),
        ]
        self.get_logger().info(f"configured for {self.robot.name}: {self.filter.constraint_names}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        self.loop.start()
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        self.publish_braking("deactivated")
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._status_later.cancel()
        for subscription in self.subscriptions_:
            self.destroy_subscription(subscription)
        for timer in self.timers_:
            self.destroy_timer(timer)
        self.destroy_lifecycle_publisher(self.command_pub)
        self.destroy_lifecycle_publisher(self.status_pub)
        self.destroy_publisher(self.diagnostics_pub)
        self.filter = self.loop = self.timer = self.trouble = self._status_later = None
        self.last_status = SafetyStatus(mode=SafetyStatus.MODE_INACTIVE)
        return TransitionCallbackReturn.SUCCESS

    def on_exit(self) -> None:
        """Process exit (SIGINT/SIGTERM): leave the motors with a braking command."""
        self.publish_braking("shutting down")

    # --- callbacks --------------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_joint_state(self, msg: JointState) -> None:
        if self.loop is None:
            return
        now = self._now()
        stamp = to_seconds(msg.header.stamp)
        if self.loop.on_joint_state(msg.name, msg.position, msg.velocity, stamp, now):
            self._control_step(now)
        else:
            self._log_refusal()

    def _on_nominal(self, msg: JointState) -> None:
        if self.loop is None:
            return
        stamp = to_seconds(msg.header.stamp)
        if not self.loop.on_nominal(msg.name, msg.effort, self._now(), stamp):
            self._log_refusal()

    def _on_gains(self, msg: BarrierGains) -> None:
        stamp = to_seconds(msg.header.stamp)
        if self.loop is not None and not self.loop.on_gains(msg.names, msg.gains, stamp):
            self._log_refusal()

    def _control_step(self, now: float) -> None:
        """One torque-loop cycle: the loop's command goes out at once, its status after it."""
        with self.timer:
            status = self.loop.step(now)
            if status is None:
                return
            self._send(status.command)
            if status.braking:
                self._report(status, later=True)
                self._log_braking(status)
                return
            self._filtered_cycles += 1
            skip = self._filtered_cycles % self.params["status_every"]
            if _MODES[status.mode] == self._status_mode and skip:
                return  # the command went out; the status (and its diagnosis) can skip this cycle
            self._report(status, later=True)

    def _on_watchdog_timer(self) -> None:
        if self.loop is None:
            return
        status = self.loop.check_watchdog(self._now())
        if status is not None:
            self._send(status.command)
            self._report(status, later=False)

    def _log_refusal(self) -> None:
        self.get_logger().warning(
            f"{self.loop.refusal} ({self.loop.rejected} rejected so far)",
            throttle_duration_sec=1.0,
        )

    def _log_braking(self, status: FilterStatus) -> None:
        if status.mode == FALLBACK and status.reason.startswith("filter error"):
            self.get_logger().error(f"filter error: {self.loop.error!r}", throttle_duration_sec=1.0)
        elif status.mode == FALLBACK and status.result is not None:
            self.get_logger().warning(f"fallback: {status.reason}", throttle_duration_sec=1.0)

    # --- output -----------------------------------------------------------------------------
    def publish_braking(self, reason: str) -> None:
        """Brake at once with `reason` (deactivation, shutdown, an operator's stop)."""
        status = self.loop.brake(reason) if self.loop is not None else None
        if status is None:
            return
        self._send(status.command)
        self._report(status, later=False)

    def _send(self, command: np.ndarray) -> None:
        self._command_msg.data = as_float64_array(command)
        self.command_pub.publish(self._command_msg)

    def _report(self, status: FilterStatus, later: bool) -> None:
        """Publish a status, at once or `later`: in one process a torque-loop cycle's command is
        delivered to the robot by a callback queued behind this one, and its status waits for
        that. A status published at once supersedes the one waiting, which then never goes out
        after it."""
        self._status_mode = _MODES[status.mode]
        if later:
            self._status_later.submit(lambda: self._publish_status(status))
        else:
            self._status_later.cancel()
            self._publish_status(status)

    def _publish_status(self, status: FilterStatus) -> None:
        """Fills the node's one SafetyStatus (names set at configuration) and publishes it."""
        counters, loop = self.filter.counters, self.loop
        msg = self.last_status
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.mode, msg.reason = _MODES[status.mode], status.reason
        msg.active_constraints = list(status.active_constraints)
        msg.nominal_command = as_float64_array(status.nominal)
        msg.safe_command = as_float64_array(status.command)
        difference = np.nan_to_num(status.nominal) - status.command
        msg.intervention_norm = math.sqrt(difference @ difference)
        msg.margins = as_float64_array(status.margins)
        msg.slack = as_float64_array(status.slack)
        msg.filtered_count = counters["filtered"]
        msg.fallback_count = counters["fallback"]
        msg.infeasible_count = counters["infeasible"]
        msg.solver_failure_count = counters["solver_failure"] + loop.filter_errors
        msg.watchdog_count = loop.watchdog.fired
        msg.rejected_messages = loop.rejected + counters["invalid_input"]
        msg.gains = as_float64_array(status.gains)
        msg.learned_gain_count = counters["learned_gains"]
        msg.gains_replaced_count = counters["gains_replaced"]
        msg.gains_raised_count = counters["gains_raised"]
        msg.gains_stale_count = loop.gains.stale
        msg.deadline_overruns = self.timer.overruns
        msg.compute_time_us = self.timer.last_us
        self.status_pub.publish(msg)

    def _publish_diagnostics(self) -> None:
        status = self.last_status
        rejected = self.loop.rejected + self.filter.counters["invalid_input"]
        trouble = self.trouble.update(self.loop.cycles, self.timer.overruns, rejected)
        level, message = DiagnosticStatus.OK, "filtering"
        if status.mode in (SafetyStatus.MODE_FALLBACK, SafetyStatus.MODE_WATCHDOG):
            level, message = DiagnosticStatus.ERROR, f"braking: {status.reason}"
        elif status.mode in (SafetyStatus.MODE_INACTIVE, SafetyStatus.MODE_WAITING):
            level = DiagnosticStatus.WARN
            message = "inactive" if status.mode == SafetyStatus.MODE_INACTIVE else status.reason
        elif trouble:
            level, message = DiagnosticStatus.WARN, f"filtering, with {trouble}"
        counters = {
            "fallbacks": status.fallback_count,
            "infeasible": status.infeasible_count,
            "solver_failures": status.solver_failure_count,
            "watchdog": status.watchdog_count,
            "waiting_cycles": self.loop.waiting,
            "rejected_messages": rejected,
            "active_constraints": ",".join(status.active_constraints),
            "learned_gains": status.learned_gain_count,
            "gains_replaced": status.gains_replaced_count,
            "gains_raised": status.gains_raised_count,
            "gains_stale": status.gains_stale_count,
        }
        self.diagnostics_pub.publish(
            diagnostic_array(
                self, "safety filter", self.robot.name, level, message, self.timer, counters
            )
        )

    # --- parameters -------------------------------------------------------------------------
    def _declare_filter_parameters(self, defaults: SafetyConfig) -> SafetyConfig:
        # The QP's zero-order-hold period is the control period: derived, not a second knob.
        values = {"control_period": 1.0 / self.params["control_rate_hz"]}
        for key, default in defaults.to_dict().items():
            if key in values:
                continue
            name = FILTER_PREFIX + key
            if isinstance(default, list):
                value = self.declare_parameter(name, Parameter.Type.DOUBLE_ARRAY).value
                values[key] = list(default if value is None else value)
            else:
                values[key] = self.declare_parameter(name, default).value
        return SafetyConfig.from_dict(values)

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        changes = {
            p.name.removeprefix(FILTER_PREFIX): p.value
            for p in parameters
            if p.name.startswith(FILTER_PREFIX)
        }
        if not changes:
            return SetParametersResult(successful=True)
        try:
            config = SafetyConfig.from_dict({**self.config.to_dict(), **changes})
            if self.filter is not None:
                self.filter.tighten(**{k: getattr(config, k) for k in changes})
        except ConfigError as exc:
            if self.loop is not None:
                self.loop.refuse(f"parameter update refused: {exc}")
                self._log_refusal()
            return SetParametersResult(successful=False, reason=str(exc))
        self.config = config
        return SetParametersResult(successful=True)


def main(args: list[str] | None = None) -> int:
    return run_nodes([SafetyFilterNode], args)
