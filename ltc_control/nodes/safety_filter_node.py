"""Safety filter node (managed): the last thing between a network and the motors.

Subscribes `joint_states` (sensor_msgs/JointState, matched by name), `nominal_command`
           (sensor_msgs/JointState: effort N·m, from the policy node) and `barrier_gains`
           (ltc_control/BarrierGains, from a BarrierNet policy: class-K gains per nominal command).
Publishes  `commands` (std_msgs/Float64MultiArray, N·m, the robot's joint order: remap to
           `/<effort_controller>/commands`), `safety_status` (ltc_control/SafetyStatus) and
           `/diagnostics` (diagnostic_msgs/DiagnosticArray: OK / WARN / ERROR).

The filter runs at the torque loop's rate: every accepted joint state is answered with one command,
the latest nominal command (held between policy steps: the policy may run slower, e.g. 100 Hz
against a 1 kHz loop) filtered through the CBF quadratic program (ltc_control.safety) at that
state. Whatever goes wrong, what is published stays inside the torque box: a malformed
nominal command, an infeasible QP or a solver failure gives the filter's braking command; a
watchdog publishes that braking command when no fresh joint state or nominal command arrived
within `watchdog_timeout` (s, node clock; checked on every joint state, and every quarter
timeout by a timer in case the states stop). Joint states whose stamps are repeated, out of order,
older than `watchdog_timeout` or that far in the future are refused and counted (the constraints
must be evaluated at the arm's current state); a clock jump backwards (simulator reset) is
accepted. An exception from the filter core (e.g. a crashing solver) is caught, counted as a
solver failure and answered with braking. Deactivation, and SIGINT/SIGTERM, publish a final
braking command first. Filter parameters (`filter.*`, defaults from config/<robot>/safety.yaml)
can be tightened at run time, never loosened past the robot description; a refused update is
logged and counted with the rejected messages. BarrierNet mode (control.barrier_gains.GainsHold):
once gains arrive, each command is filtered with the gains stamped like its nominal command, else
with the configured gains (counted as stale); the filter keeps each gain inside its safe range.
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

from ltc_control.control.barrier_gains import GainsHold
from ltc_control.control.signals import JointMatcher, SignalError
from ltc_control.control.stamps import StampClock
from ltc_control.control.watchdog import CommandWatchdog
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
from ltc_control.safety import FilterResult, SafetyConfig, SafetyFilter, load_safety_config

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
_MODES = {"filtered": SafetyStatus.MODE_FILTERED, "fallback": SafetyStatus.MODE_FALLBACK}


class SafetyFilterNode(LifecycleNode):
    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.busy_poll = self.params["busy_poll"]  # serve() spins the process accordingly
        self.robot = load_robot_description(self.params["robot"])
        # Name lookups cached per stream (the state and the nominal command may order differently).
        self._match_state = JointMatcher(self.robot.joint_names)
        self._match_nominal = JointMatcher(self.robot.joint_names)
        self._command_msg = Float64MultiArray()  # reused: publish() serialises it at once
        self.config = self._declare_filter_parameters(load_safety_config(self.robot.name))
        self.unknown_parameters = warn_unknown_parameters(self)
        self.filter: SafetyFilter | None = None
        self.q: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.nominal: np.ndarray | None = None  # held between policy steps (zero-order hold)
        self.nominal_problem = "no nominal command yet"
        self.last_status = SafetyStatus(mode=SafetyStatus.MODE_INACTIVE)
        self._status_mode = self.last_status.mode  # of the latest status requested
        self._status_later = AfterQueuedEvents(
            self, max_wait_s=self.params["status_every"] / self.params["control_rate_hz"]
        )
        self.rejected = 0
        self.filter_errors = 0
        self.cycles = 0
        timeout = self.params["watchdog_timeout"]
        self.watchdog = CommandWatchdog(timeout)
        self.stamps = StampClock(
            timeout, math.inf, max_age=timeout, future_tolerance=timeout, reset_jump=timeout
        )
        self.timer = ComputeTimer(1.0 / self.params["control_rate_hz"])
        self.add_on_set_parameters_callback(self._on_set_parameters)
        if self.params["autostart"]:
            self.trigger_configure()
            self.trigger_activate()

    # --- lifecycle --------------------------------------------------------------------------
    def on_configure(self, state: State) -> TransitionCallbackReturn:
        self.filter = SafetyFilter(self.robot, self.config)
        self.gains = GainsHold(self.filter.gain_names, self.filter.configured_gains)
        self.last_status.gain_names = list(self.filter.gain_names)
        names = self.filter.constraint_names
        self.last_status.joint_names = list(self.robot.joint_names)
        self.last_status.constraint_names = list(names)
        self._no_margins, self._no_slack = np.full(len(names), np.nan), np.zeros(len(names))
        self._no_nominal = np.full(self.robot.dof, np.nan)  # braking: no nominal command used
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
        self.watchdog.reset()
        self.gains.start()
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        self.publish_braking("deactivated")
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        for subscription in self.subscriptions_:
            self.destroy_subscription(subscription)
        for timer in self.timers_:
            self.destroy_timer(timer)
        self.destroy_lifecycle_publisher(self.command_pub)
        self.destroy_lifecycle_publisher(self.status_pub)
        self.destroy_publisher(self.diagnostics_pub)
        self.filter = None
        return TransitionCallbackReturn.SUCCESS

    def on_exit(self) -> None:
        """Process exit (SIGINT/SIGTERM): leave the motors with a braking command."""
        self.publish_braking("shutting down")

    # --- callbacks --------------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_joint_state(self, msg: JointState) -> None:
        try:
            q = self._match_state(msg.name, msg.position)
            v = self._match_state(msg.name, msg.velocity)
        except SignalError as exc:
            self._reject(f"joint state refused: {exc}")
            return
        stamp = to_seconds(msg.header.stamp)
        now = self._now()
        verdict, _ = self.stamps.elapsed(stamp, now)
        if not verdict.accepted:
            self._reject(f"joint state refused: {verdict.value} stamp {stamp:.9f} s")
            return
        self.q, self.v = q, v
        self.watchdog.state_received(now)
        self._control_step(now)

    def _on_nominal(self, msg: JointState) -> None:
        try:
            self.nominal = self._match_nominal(msg.name, msg.effort)
            self.nominal_problem = ""
        except SignalError as exc:
            self._reject(f"nominal command refused: {exc}")
            self.nominal, self.nominal_problem = None, f"malformed nominal command: {exc}"
            return
        self.gains.on_nominal(to_seconds(msg.header.stamp))
        self.watchdog.command_received(self._now())

    def _on_gains(self, msg: BarrierGains) -> None:
        if not self.gains.on_gains(to_seconds(msg.header.stamp), msg.names, msg.gains):
            self._reject(f"barrier gains refused: {len(msg.names)} names, {len(msg.gains)} gains")

    def _control_step(self, now: float) -> None:
        """One torque-loop cycle: filter the held nominal command at the fresh joint state."""
        if self.filter is None:
            return
        with self.timer:
            reason = self.watchdog.check(now)
            if reason or self.nominal is None:
                self.publish_braking(
                    f"watchdog: {reason}" if reason else self.nominal_problem,
                    mode=SafetyStatus.MODE_WATCHDOG if reason else SafetyStatus.MODE_FALLBACK,
                    status_later=True,
                )
                return
            try:
                result = self.filter.filter(self.q, self.v, self.nominal, self.gains.for_step())
            except Exception as exc:  # the last line before the motors: brake, never crash
                self.filter_errors += 1
                self.get_logger().error(f"filter error: {exc!r}", throttle_duration_sec=1.0)
                self.publish_braking(
                    f"filter error: {type(exc).__name__}: {exc}", status_later=True
                )
                return
            self._publish(result, self.nominal)

    def _on_watchdog_timer(self) -> None:
        reason = self.watchdog.check(self._now())
        if reason and self.q is not None:
            self.publish_braking(f"watchdog: {reason}", mode=SafetyStatus.MODE_WATCHDOG)

    def _reject(self, message: str) -> None:
        self.rejected += 1
        self.get_logger().warning(
            f"{message} ({self.rejected} rejected so far)", throttle_duration_sec=1.0
        )

    # --- output -----------------------------------------------------------------------------
    def publish_braking(
        self, reason: str, mode: int = SafetyStatus.MODE_FALLBACK, status_later: bool = False
    ) -> None:
        if self.filter is None or self.q is None:
            return
        command = self.filter.braking_command(self.q, self.v)
        self._send(command)
        self._report(
            (mode, reason, self._no_nominal, command, self._no_margins, self._no_slack),
            later=status_later,
        )

    def _send(self, command: np.ndarray) -> None:
        self._command_msg.data = as_float64_array(command)
        self.command_pub.publish(self._command_msg)

    def _publish(self, result: FilterResult, nominal: np.ndarray) -> None:
        self._send(result.command)
        self.cycles += 1
        mode = _MODES[result.mode]
        if mode == self._status_mode and self.cycles % self.params["status_every"]:
            return  # the command went out; the status (and its diagnosis) can skip this cycle
        status = (mode, result.reason, nominal, result.command, result.margins, result.slack)
        self._report((*status, result.active_constraints, result.gains), later=True)
        if result.mode != "filtered":
            self.get_logger().warning(f"fallback: {result.reason}", throttle_duration_sec=1.0)

    def _report(self, status: tuple, later: bool) -> None:
        """Publish a status (`_publish_status` arguments), at once or `later`: in one process a
        torque-loop cycle's command is delivered to the robot by a callback queued behind this
        one, and its status waits for that. A status published at once supersedes the one
        waiting, which then never goes out after it."""
        self._status_mode = status[0]
        if later:
            self._status_later.submit(lambda: self._publish_status(*status))
        else:
            self._status_later.cancel()
            self._publish_status(*status)

    def _publish_status(
        self, mode: int, reason: str, nominal, command, margins, slack, active=(), gains=()
    ) -> None:
        """Fills the node's one SafetyStatus (names set at configuration; a braking status has
        NaN margins: not evaluated) and publishes it."""
        counters = self.filter.counters
        status = self.last_status
        status.header.stamp = self.get_clock().now().to_msg()
        status.mode, status.reason = mode, reason
        status.active_constraints = list(active)
        status.nominal_command = as_float64_array(nominal)
        status.safe_command = as_float64_array(command)
        difference = np.nan_to_num(nominal) - command
        status.intervention_norm = math.sqrt(difference @ difference)
        status.margins = as_float64_array(margins)
        status.slack = as_float64_array(slack)
        status.filtered_count = counters["filtered"]
        status.fallback_count = counters["fallback"]
        status.infeasible_count = counters["infeasible"]
        status.solver_failure_count = counters["solver_failure"] + self.filter_errors
        status.watchdog_count = self.watchdog.fired
        status.rejected_messages = self.rejected + counters["invalid_input"]
        status.gains = as_float64_array(gains)
        status.learned_gain_count = counters["learned_gains"]
        status.gains_replaced_count = counters["gains_replaced"]
        status.gains_raised_count = counters["gains_raised"]
        status.gains_stale_count = self.gains.stale
        status.deadline_overruns = self.timer.overruns
        status.compute_time_us = self.timer.last_us
        self.status_pub.publish(status)

    def _publish_diagnostics(self) -> None:
        status = self.last_status
        level, message = DiagnosticStatus.OK, "filtering"
        if status.mode in (SafetyStatus.MODE_FALLBACK, SafetyStatus.MODE_WATCHDOG):
            level, message = DiagnosticStatus.ERROR, f"braking: {status.reason}"
        elif status.mode == SafetyStatus.MODE_INACTIVE:
            level, message = DiagnosticStatus.WARN, "inactive"
        elif self.timer.overruns or status.rejected_messages:
            level, message = DiagnosticStatus.WARN, "filtering, with overruns or rejected inputs"
        counters = {
            "fallbacks": status.fallback_count,
            "infeasible": status.infeasible_count,
            "solver_failures": status.solver_failure_count,
            "watchdog": status.watchdog_count,
            "rejected_messages": status.rejected_messages,
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
            self._reject(f"parameter update refused: {exc}")
            return SetParametersResult(successful=False, reason=str(exc))
        self.config = config
        return SetParametersResult(successful=True)


def main(args: list[str] | None = None) -> int:
    return run_nodes([SafetyFilterNode], args)
