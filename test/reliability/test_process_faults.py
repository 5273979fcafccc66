"""Process-level faults: invalid parameter updates through the parameter service, malformed
parameter files and model files at start-up, the policy process killed and restarted, a 5 kHz
flood on every input topic and a slow subscriber (both from other processes)."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from reliability_cases import PANDA
from ros_harness import FILTERED, WATCHDOG, Loop, node_args

from ltc_control.errors import ConfigError
from ltc_control.runtime.errors import ModelFileError

pytestmark = pytest.mark.ros
TRAFFIC = Path(__file__).with_name("traffic.py")


# --- parameters -----------------------------------------------------------------------------


def _double(name: str, value: float | str) -> Parameter:
    if isinstance(value, str):
        return Parameter(
            name=name, value=ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
        )
    return Parameter(
        name=name, value=ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    )


def set_parameter(loop: Loop, name: str, value: float | str) -> tuple[bool, str]:
    """Through /safety_filter/set_parameters, as `ros2 param set` does."""
    client = loop.probe.create_client(SetParameters, "/safety_filter/set_parameters")
    assert loop.spin_until(client.service_is_ready, 10.0)
    future = client.call_async(SetParameters.Request(parameters=[_double(name, value)]))
    assert loop.spin_until(future.done, 10.0)
    loop.probe.destroy_client(client)
    result = future.result().results[0]
    return result.successful, result.reason


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("filter.force_max", -5.0, "'force_max' must be > 0 N"),
        ("filter.force_max", 80.0, "force_max above the configured 50.0 N"),
        ("filter.torque_limit_scale", 1.5, "'torque_limit_scale' must be in (0, 1]"),
        ("filter.velocity_gain", 10.0, "tighten() accepts only"),
        ("filter.torque_limit_scale", "half", "Wrong parameter type"),
    ],
)
def test_invalid_parameter_updates_are_refused_logged_and_counted(
    loop: Loop, name: str, value: float | str, reason: str, capfd
) -> None:
    before = loop.last_status().rejected_messages
    config = loop.safety.config
    successful, message = set_parameter(loop, name, value)
    assert not successful and reason in message
    assert loop.safety.config == config
    for _ in range(3):
        assert loop.tick()
    counted = 0 if isinstance(value, str) else 1  # rclpy refuses wrong types before the node
    assert loop.last_status().rejected_messages == before + counted
    if counted:
        line = next(
            (x for x in capfd.readouterr().err.splitlines() if "parameter update refused" in x), ""
        )
        assert "[safety_filter]: parameter update refused: " in line and reason in line
    assert loop.mode() == FILTERED and loop.unsafe_outputs() == []


def test_a_valid_tightening_takes_effect_through_the_service(loop: Loop) -> None:
    assert loop.unsafe_outputs() == []
    successful, _ = set_parameter(loop, "filter.torque_limit_scale", 0.25)
    assert successful and loop.safety.config.torque_limit_scale == 0.25
    # From here on, the oracle holds the tightened box.
    loop.reference = type(loop.reference)(PANDA, loop.safety.config)
    loop.probe.commands.clear()
    loop.probe.statuses.clear()
    for _ in range(5):
        assert loop.tick()
    assert loop.mode() == FILTERED
    assert np.max(np.abs(loop.probe.commands[-1]) / PANDA.limits.effort) <= 0.25 + 1e-9
    assert loop.unsafe_outputs() == []


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            "safety_filter:\n  ros__parameters:\n    watchdog_timeout: [0.05\n",
            "RCLInvalidROSArgs",
            "Couldn't parse params file",
        ),
        ("safety_filter:\n  ros__par", "RCLInvalidROSArgs", "Couldn't parse params file"),
        (
            "safety_filter:\n  ros__parameters:\n    filter.force_max: abc\n",
            "InvalidParameterType",
            "'filter.force_max' to 'abc' of type 'STRING'",
        ),
        (
            "safety_filter:\n  ros__parameters:\n    filter:\n      force_max: -3.0\n",
            "ConfigError",
            "safety config 'force_max' must be > 0 N",
        ),
        (
            "safety_filter:\n  ros__parameters:\n    watchdog_timeout: 100.0\n",
            "InvalidParameterValue",
            "watchdog_timeout",
        ),
    ],
    ids=["unclosed list", "truncated", "string for a number", "negative force", "out of range"],
)
def test_malformed_parameter_files_refuse_to_start(
    ros_context, tmp_path: Path, text: str, error: str, message: str
) -> None:
    from ltc_control.nodes.safety_filter_node import SafetyFilterNode

    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(Exception, match=message) as info:
        SafetyFilterNode(
            context=ros_context,
            cli_args=["--ros-args", "--params-file", str(path)],
            use_global_arguments=False,
        )
    assert error in type(info.value).__name__
    if error == "ConfigError":
        assert isinstance(info.value, ConfigError)


def test_shipped_parameters_start_the_safety_filter(ros_context) -> None:
    """config/panda/ros.yaml (100 Hz) with config/panda/safety.yaml must give a running filter."""
    from ltc_control.nodes.safety_filter_node import SafetyFilterNode

    node = SafetyFilterNode(context=ros_context, cli_args=node_args(), use_global_arguments=False)
    assert node.filter is not None
    node.destroy_node()


# --- model files ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "truncated", "other robot"])
def test_policy_node_refuses_a_bad_model_file(
    ros_context, untrained_panda_policy: Path, tmp_path: Path, kind: str
) -> None:
    from ltc_testing import write_untrained_policy

    from ltc_control.nodes.policy_node import PolicyNode
    from ltc_control.runtime.signals import SignalError

    path = tmp_path / "model.npz"
    if kind == "truncated":
        path.write_bytes(untrained_panda_policy.read_bytes()[:1000])
    elif kind == "other robot":
        write_untrained_policy("double_pendulum", path)
    expected = SignalError if kind == "other robot" else ModelFileError
    with pytest.raises(expected, match=r"not a known signal|does not exist|not a readable"):
        PolicyNode(
            context=ros_context, cli_args=node_args(model_file=path), use_global_arguments=False
        )


def test_policy_executable_exits_with_the_error_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.npz"
    done = subprocess.run(
        [str(Path(sys.prefix) / "bin" / "policy_node"), *node_args(model_file=missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("[FATAL]")]
    assert line.endswith(f"[policy_node]: model file {missing} does not exist"), line


# --- the policy process killed mid-run, then restarted ---------------------------------------


def _start_policy(model: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.prefix) / "bin" / "policy_node"), *node_args(model_file=model)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_policy_killed_mid_run_brakes_then_recovers_on_restart(
    ros_context, untrained_panda_policy: Path
) -> None:
    loop = Loop(ros_context, untrained_panda_policy, with_policy=False)
    policy = _start_policy(untrained_panda_policy)
    try:
        loop.probe.set_clock(loop.t)
        loop.probe.publish_target()
        assert loop.spin_until(lambda: loop.tick(timeout=0.05) and loop.mode() == FILTERED, 60.0)
        for _ in range(20):
            loop.tick()
        # On a loaded machine the policy process can miss a command deadline in those ticks and
        # the filter brakes; start the kill from a filtering state so exactly one trip follows.
        assert loop.spin_until(lambda: loop.tick(timeout=0.05) and loop.mode() == FILTERED, 60.0)
        policy.send_signal(signal.SIGKILL)
        policy.wait(timeout=10)
        first = len(loop.probe.statuses)
        watchdog_before = loop.last_status().watchdog_count
        for _ in range(10):
            loop.tick(timeout=0.05)
        braking = loop.probe.statuses[first:]
        assert braking and all(s.mode == WATCHDOG for s in braking[-5:])
        assert braking[-1].reason == "watchdog: no fresh nominal command"
        assert loop.last_status().watchdog_count == watchdog_before + 1

        # /diagnostics runs on a sim-time timer; a loaded machine may deliver it a few ticks late.
        def watchdog_errors() -> list[dict[str, object]]:
            return [d for d in loop.diagnostics() if d["message"].startswith("braking: watchdog")]

        assert loop.spin_until(lambda: loop.tick(timeout=0.05) and bool(watchdog_errors()), 10.0)
        assert watchdog_errors()[-1]["level"] == 2
        policy = _start_policy(untrained_panda_policy)
        assert loop.spin_until(lambda: loop.tick(timeout=0.05) and loop.mode() == FILTERED, 60.0)
        assert loop.unsafe_outputs() == []
    finally:
        policy.kill()
        policy.wait(timeout=10)
        loop.close()


# --- load -----------------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _traffic(*args: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(TRAFFIC), *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def test_5khz_flood_on_every_input_topic_stays_safe_and_bounded(
    ros_context, untrained_panda_policy: Path
) -> None:
    loop = Loop(ros_context, untrained_panda_policy, sim_time=False)
    try:
        loop.start()
        loop.spin_for(0.5)
        rss_before = _rss_mb()
        flood = _traffic("flood", "5000", "3.0")
        deadline = time.monotonic() + 4.0
        while flood.poll() is None and time.monotonic() < deadline:
            loop.tick(timeout=0.01)
        report = json.loads(flood.communicate(timeout=30)[0].strip().splitlines()[-1])
        during = len(loop.probe.statuses)
        loop.spin_for(1.0)  # drain
        # The flooder holds ~5 kHz when the machine is quiet; under CI load it may lag.
        assert report["rate_hz"] >= 2500, report
        assert loop.last_status().rejected_messages > 0  # malformed quarter of the flood
        growth = _rss_mb() - rss_before
        assert growth < 50, f"RSS grew {growth:.1f} MB during a 3 s flood"
        assert loop.recover()
        # Back to one answer per tick, promptly: nothing is queued behind the flood.
        start = time.monotonic()
        for _ in range(20):
            assert loop.tick(timeout=0.5)
        assert time.monotonic() - start < 5.0
        assert len(loop.probe.statuses) > during
        assert loop.unsafe_outputs() == []
    finally:
        loop.close()


def test_a_slow_subscriber_does_not_hold_the_filter_back(
    ros_context, untrained_panda_policy: Path
) -> None:
    loop = Loop(ros_context, untrained_panda_policy)
    try:
        loop.start()
        slow = _traffic("slow", "4.0", "0.05")
        publishers = (loop.safety.command_pub, loop.safety.status_pub)
        assert loop.spin_until(
            lambda: all(p.get_subscription_count() >= 2 for p in publishers), 20.0
        ), "the slow subscriber was never discovered"
        start = time.monotonic()
        ticks = 0
        while slow.poll() is None and time.monotonic() - start < 2.5:
            assert loop.tick(timeout=0.5)
            ticks += 1
        report = json.loads(slow.communicate(timeout=30)[0].strip().splitlines()[-1])
        # The slow reader took at most 1/0.05 = 20 messages/s; the loop ran at least twice as
        # fast, so it never waited for it (~300 ticks on a quiet machine, fewer under CI load).
        assert 0 < sum(report["received"].values()) <= 4.0 / 0.05 + 10
        assert ticks > 2 * 2.5 / 0.05, ticks
        assert loop.mode() == FILTERED and loop.unsafe_outputs() == []
    finally:
        loop.close()


def test_sim_time_stamps_on_wall_clock_nodes_are_refused(
    ros_context, untrained_panda_policy: Path
) -> None:
    """The other time mix-up: the nodes run on wall time (use_sim_time false), the robot stamps
    with sim time (~1 s): every joint state is stale for both nodes; the watchdog brakes."""
    from ros_harness import joint_state

    loop = Loop(ros_context, untrained_panda_policy, sim_time=False)
    try:
        loop.start()
        before = loop.last_status()
        first = len(loop.probe.statuses)
        for k in range(20):
            loop.probe.joint_pub.publish(joint_state(1.0 + 0.01 * k))
            loop.spin_for(0.01)
        assert WATCHDOG in [s.mode for s in loop.probe.statuses[first:]]
        assert loop.last_status().rejected_messages >= before.rejected_messages + 15
        assert loop.recover()
        assert loop.probe.policy_states[-1].rejected_messages >= 15
        assert loop.unsafe_outputs() == []
    finally:
        loop.close()
