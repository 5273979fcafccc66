"""The composed_nodes executable as robot.launch.xml starts it by default (composed:=true): the
policy and the safety filter in one process, driving a simulated robot in another process over
real topics; per-node parameters and remaps reach their node; SIGINT ends it cleanly."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from ltc_testing import launch_command

from ltc_control.msg import PolicyState, SafetyStatus
from ltc_control.resources import share_dir
from ltc_control.robots import load_robot_description

pytestmark = pytest.mark.ros
LAUNCH = share_dir() / "launch"


def test_composed_executable_drives_a_robot_in_another_process(
    ros_context, untrained_panda_policy: Path, spin_until, tmp_path: Path
) -> None:
    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.launch_xml import read_launch_file
    from ltc_control.nodes.recorder import RecorderNode
    from ltc_control.nodes.spin import make_executor

    # The robot publishes /clock here (the lockstep sim), so the robot side uses sim time.
    arguments = {"model_file": str(untrained_panda_policy), "use_sim_time": "true"}
    (entry,) = read_launch_file(LAUNCH / "robot.launch.xml", arguments).nodes
    assert entry.executable == "composed_nodes"
    process = subprocess.Popen(
        launch_command(entry, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        robot = build_nodes(LAUNCH / "sim.launch.xml", {"nodes": "sim,target"}, ros_context).nodes
        recorder = RecorderNode(
            context=ros_context,
            cli_args=["--ros-args", "-r", "commands:=/effort_controller/commands"],
            use_global_arguments=False,
        )
        model_ids = set()
        recorder.create_subscription(
            PolicyState, "policy_state", lambda msg: model_ids.add(msg.model_id), 10
        )
        executor = make_executor(ros_context)
        for node in [*robot, recorder]:
            executor.add_node(node)
        modes = recorder.recording.mode
        assert spin_until(executor, lambda: modes.count(SafetyStatus.MODE_FILTERED) >= 30, 60.0), (
            "the composed process never drove the robot"
        )
        # model_file reached the policy only (policy:model_file:=...), remaps their nodes.
        assert model_ids == {"untrained-panda"}
        assert recorder.recording.commands_received >= 100
        effort = load_robot_description("panda").limits.effort
        assert np.all(np.abs(np.array(recorder.recording.safe)) <= effort + 1e-9)
        for node in [*robot, recorder]:
            node.destroy_node()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err[-2000:]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["sim,polcy"], "names ['polcy']; choose among sim, target, filter, policy"),
        ([], "which nodes?"),
        (["policy", "policy:model_file=x"], "expected node:parameter:=value"),
        (["policy", "planner:robot:=panda"], "expected node:parameter:=value"),
    ],
)
def test_composed_executable_refuses_bad_arguments_in_one_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ltc_control.nodes.composed import main

    assert main([*arguments, "--ros-args"]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1
