"""SIGINT/SIGTERM: the safety filter leaves the motors with a final braking command and every
node executable exits cleanly (status 0, no traceback)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ltc_control.resources import robot_config
from ltc_control.robots import load_robot_description

pytestmark = pytest.mark.ros
PANDA = load_robot_description("panda")


def start(executable: str, *args: str) -> subprocess.Popen[str]:
    command = [str(Path(sys.prefix) / "bin" / executable), "--ros-args"]
    command += ["--params-file", str(robot_config("panda", "ros")), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_filter_brakes_on_exit_and_exits_cleanly(ros_context, spin_until, signum: int) -> None:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import JointState

    from ltc_control.msg import SafetyStatus

    process = start("safety_filter_node", "-r", "commands:=/effort_controller/commands")
    try:
        node = rclpy.create_node("shutdown_probe", context=ros_context)
        statuses: list[SafetyStatus] = []
        node.create_subscription(SafetyStatus, "safety_status", statuses.append, 100)
        joints = node.create_publisher(JointState, "joint_states", 10)
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(node)

        def publish_state() -> bool:
            msg = JointState(
                name=list(PANDA.joint_names), position=PANDA.home.tolist(), velocity=[0.0] * 7
            )
            msg.header.stamp = node.get_clock().now().to_msg()
            joints.publish(msg)
            return bool(statuses)

        assert spin_until(executor, publish_state, 30.0), "the filter never answered"
        process.send_signal(signum)
        assert spin_until(
            executor, lambda: any(s.reason == "shutting down" for s in statuses), 10.0
        )
        final = next(s for s in statuses if s.reason == "shutting down")
        assert all(
            abs(u) <= e for u, e in zip(final.safe_command, PANDA.limits.effort, strict=True)
        )
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 0, stderr[-2000:]
        assert "Traceback" not in stderr
        node.destroy_node()
    finally:
        process.kill()


@pytest.mark.parametrize("executable", ["sim_node", "target_node", "policy_node"])
def test_other_executables_exit_cleanly_on_sigint(executable: str) -> None:
    process = start(executable)
    time.sleep(3.0)  # started and spinning
    assert process.poll() is None, process.communicate()[1][-2000:]
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]


def test_bringup_busy_polling_runs_the_loop_and_exits_cleanly_on_sigint(
    ros_context, spin_until
) -> None:
    """`ltc-control bringup --busy-poll`: never blocks, yet still hears SIGINT between polls."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from ltc_control.msg import SafetyStatus

    process = subprocess.Popen(
        [str(Path(sys.prefix) / "bin" / "ltc-control"), "bringup", "--busy-poll", "robot:=panda"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        node = rclpy.create_node("bringup_probe", context=ros_context)
        statuses: list[SafetyStatus] = []
        node.create_subscription(SafetyStatus, "safety_status", statuses.append, 100)
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(node)
        assert spin_until(executor, lambda: len(statuses) > 20, 60.0), "no loop running"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
        assert process.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]
        assert "Found remap rule" not in stderr  # launch arguments are not rcl remaps
        # It says what it started and how to stop it (it runs until stopped).
        assert "[bringup] sim.launch.xml: running /sim, " in stdout, stdout
        assert "/safety_filter" in stdout and "Ctrl-C stops them" in stdout, stdout
        node.destroy_node()
    finally:
        process.kill()


def _cpu_seconds(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_the_filters_busy_poll_parameter_makes_its_process_poll(ros_context) -> None:
    """robot.launch.xml busy_poll:=true: with no input at all, a polling filter process keeps
    its CPU awake (~1/3 of a core here) while a blocking one idles; both exit cleanly on SIGINT."""
    import rclpy

    names = {True: "filter_polling", False: "filter_blocking"}
    processes = {
        poll: start("safety_filter_node", "-p", f"busy_poll:={poll}", "-r", f"__node:={name}")
        for poll, name in names.items()
    }
    probe = rclpy.create_node("busy_poll_probe", context=ros_context)
    try:
        deadline = time.monotonic() + 60.0  # both imported, configured and spinning
        while not set(names.values()) <= set(probe.get_node_names()):
            assert time.monotonic() < deadline, "the filter processes never came up"
            time.sleep(0.1)
        time.sleep(1.0)
        before = {poll: _cpu_seconds(p.pid) for poll, p in processes.items()}
        time.sleep(2.0)
        used = {poll: _cpu_seconds(p.pid) - before[poll] for poll, p in processes.items()}
        assert used[True] > max(0.2, 3 * used[False]), used
        for process in processes.values():
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
            assert process.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]
    finally:
        probe.destroy_node()
        for process in processes.values():
            process.kill()
