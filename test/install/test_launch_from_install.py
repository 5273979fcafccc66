"""Each shipped launch file from an install (colcon and pip, see installs.py), started as
`ros2 launch` would start it: one process per <node> (composed_nodes by default), the installed
executable with its own arguments, the installed parameter files and the launch file's remaps and
parameters (ltc_control.nodes.launch_xml reads the installed file, bringup.ros_arguments gives
the --ros-args), in a working directory outside the checkout. A probe node in this process checks the running graph over DDS."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from installs import Install
from ltc_testing import stop_processes

from ltc_control.nodes.bringup import ros_arguments
from ltc_control.nodes.launch_xml import read_launch_file
from ltc_control.resources import PACKAGE

pytestmark = [pytest.mark.slow, pytest.mark.ros]
START_TIMEOUT = 120.0  # s: four processes importing rclpy, pinocchio and MuJoCo on a busy machine


@contextmanager
def launched(installed: Install, launch_file: str, workdir: Path) -> Iterator[list]:
    """Start the launch file's nodes from the install; stop them (SIGINT, then kill) after."""
    launch = read_launch_file(
        installed.share / "launch" / launch_file,
        find_package_share=lambda package: (
            installed.share if package == PACKAGE else Path(f"<share of {package}>")
        ),
    )
    processes = []
    try:
        for node in launch.nodes:
            assert node.package == PACKAGE, node
            assert all(f.is_relative_to(installed.share) for f in node.parameter_files), node
            log = (workdir / f"{node.name or node.executable}.log").open("w")
            processes.append(
                subprocess.Popen(
                    installed.command(
                        node.executable, *node.arguments, *ros_arguments(node, workdir)
                    ),
                    env=installed.env,
                    cwd=workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        yield processes
    finally:
        stop_processes(processes, timeout=10)


class GraphProbe:
    """Counts messages on the topics the launch files' nodes publish, asks the filter's state."""

    def __init__(self, context: object) -> None:
        import rclpy
        from geometry_msgs.msg import PointStamped
        from lifecycle_msgs.srv import GetState
        from rclpy.executors import SingleThreadedExecutor
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Float64MultiArray

        self.node = rclpy.create_node("install_launch_probe", context=context)
        self.counts = {"commands": 0, "nominal_command": 0, "target": 0, "joint_states": 0}
        topics = {
            "commands": ("/effort_controller/commands", Float64MultiArray),
            "nominal_command": ("/nominal_command", JointState),
            "target": ("/target", PointStamped),
            "joint_states": ("/joint_states", JointState),
        }
        for key, (topic, kind) in topics.items():
            self.node.create_subscription(kind, topic, lambda _, key=key: self._count(key), 10)
        self.get_state = self.node.create_client(GetState, "/safety_filter/get_state")
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.filter_state = ""

    def _count(self, key: str) -> None:
        self.counts[key] += 1

    def spin_until(self, condition, timeout: float, processes: list) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                return False
            self.executor.spin_once(timeout_sec=0.05)
        return True

    def ask_filter_state(self) -> str:
        from lifecycle_msgs.srv import GetState

        if self.get_state.service_is_ready():
            future = self.get_state.call_async(GetState.Request())
            self.executor.spin_until_future_complete(future, timeout_sec=2.0)
            if future.done() and future.result() is not None:
                self.filter_state = future.result().current_state.label
        return self.filter_state

    def nodes(self) -> set[str]:
        return set(self.node.get_node_names())


def _logs(workdir: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in workdir.glob("*.log"))


def test_sim_launch_runs_from_the_install_and_commands_flow(
    installed: Install, ros_context: object, tmp_path: Path
) -> None:
    probe = GraphProbe(ros_context)
    with launched(installed, "sim.launch.xml", tmp_path) as processes:
        flowing = probe.spin_until(
            lambda: (
                probe.counts["commands"] >= 50
                and probe.counts["nominal_command"] >= 5
                and probe.counts["target"] >= 1
                and probe.ask_filter_state() == "active"
            ),
            START_TIMEOUT,
            processes,
        )
        assert flowing, f"{probe.counts}, filter {probe.filter_state!r}\n{_logs(tmp_path)}"
        assert {"sim", "target", "safety_filter", "policy"} <= probe.nodes()
        assert all(p.poll() is None for p in processes), _logs(tmp_path)
    assert "Traceback" not in _logs(tmp_path), _logs(tmp_path)


def test_robot_launch_runs_from_the_install_and_the_filter_waits_active(
    installed: Install, ros_context: object, tmp_path: Path
) -> None:
    """No robot publishes joint states: the filter is active, wired to the robot's topics by
    the launch file's remaps, and commands nothing."""
    probe = GraphProbe(ros_context)
    node = probe.node
    with launched(installed, "robot.launch.xml", tmp_path) as processes:
        wired = probe.spin_until(
            lambda: (
                probe.ask_filter_state() == "active"
                and node.count_subscribers("/joint_states") >= 2  # policy and filter
                and node.count_subscribers("/target") >= 1
                and node.count_publishers("/effort_controller/commands") >= 1
            ),
            START_TIMEOUT,
            processes,
        )
        assert wired, f"filter {probe.filter_state!r}\n{_logs(tmp_path)}"
        assert {"safety_filter", "policy"} <= probe.nodes()
        probe.spin_until(lambda: False, 1.0, processes)  # watch for a second
        assert probe.counts["commands"] == 0, "a command without any joint state"
        assert all(p.poll() is None for p in processes), _logs(tmp_path)
    assert "Traceback" not in _logs(tmp_path), _logs(tmp_path)
