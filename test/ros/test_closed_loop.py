"""The launch file's nodes in one process, over real DDS topics: data flows end to end, sim time
is used, the watchdog brakes when the policy dies, and bad parameters are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ltc_control.msg import SafetyStatus
from ltc_control.resources import share_dir
from ltc_control.robots import load_robot_description

pytestmark = pytest.mark.ros
SIM_LAUNCH = share_dir() / "launch" / "sim.launch.xml"


def bring_up(context: object, model: Path) -> tuple[dict[str, object], object]:
    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.recorder import RecorderNode
    from ltc_control.nodes.spin import make_executor

    bringup = build_nodes(SIM_LAUNCH, {"robot": "panda", "model_file": str(model)}, context)
    recorder = RecorderNode(
        context=context,
        cli_args=["--ros-args", "-r", "commands:=/effort_controller/commands"],
        use_global_arguments=False,
    )
    nodes = {node.get_name(): node for node in [*bringup.nodes, recorder]}
    executor = make_executor(context)
    for node in nodes.values():
        executor.add_node(node)
    return nodes, executor


def test_data_flows_end_to_end_on_sim_time(
    ros_context, untrained_panda_policy: Path, spin_until
) -> None:
    nodes, executor = bring_up(ros_context, untrained_panda_policy)
    sim, policy, recorder = nodes["sim"], nodes["policy"], nodes["recorder"]
    assert spin_until(executor, lambda: sim.sim.time >= 1.0, timeout=60.0), "sim did not advance"
    recording = recorder.recording
    # Lockstep: the sim advanced because safe commands came back, not on timeouts.
    assert sim.missed_commands <= 3 and sim.rejected_commands == 0
    assert recording.commands_received >= 90
    assert len(recording.status_time) >= 90
    assert all(mode == SafetyStatus.MODE_FILTERED for mode in recording.mode[5:])
    # The policy runs on the simulator's clock: its now() is the sim time, not wall time.
    policy_now = policy.get_clock().now().nanoseconds * 1e-9
    assert abs(policy_now - sim.sim.time) < 0.05
    assert policy.controller.steps >= 90
    effort = load_robot_description("panda").limits.effort
    assert np.all(np.abs(np.array(recording.safe)) <= effort + 1e-9)
    for node in nodes.values():
        node.destroy_node()


def test_watchdog_brakes_when_the_policy_dies(
    ros_context, untrained_panda_policy: Path, spin_until
) -> None:
    nodes, executor = bring_up(ros_context, untrained_panda_policy)
    sim, recorder = nodes["sim"], nodes["recorder"]
    assert spin_until(executor, lambda: sim.sim.time >= 0.5, timeout=60.0)
    executor.remove_node(nodes["policy"])
    nodes.pop("policy").destroy_node()
    modes = recorder.recording.mode
    seen = len(modes)
    assert spin_until(executor, lambda: SafetyStatus.MODE_WATCHDOG in modes[seen:], timeout=30.0), (
        "no watchdog braking after the policy died"
    )
    # Braking commands keep the sim moving (lockstep) and stay in the torque box.
    assert spin_until(executor, lambda: sim.sim.time >= 1.5, timeout=60.0)
    effort = load_robot_description("panda").limits.effort
    assert np.all(np.abs(np.array(recorder.recording.safe)) <= effort + 1e-9)
    assert nodes["safety_filter"].watchdog.fired >= 1
    for node in nodes.values():
        node.destroy_node()


@pytest.mark.parametrize(
    ("factory", "argument", "message"),
    [
        ("policy", "max_dt:=-1.0", "max_dt"),
        ("policy", "control_rate_hz:=0.0", "control_rate_hz"),
        ("safety_filter", "filter.force_max:=-5.0", "force_max"),
        ("safety_filter", "watchdog_timeout:=100.0", "watchdog_timeout"),
    ],
)
def test_bad_parameters_are_refused_at_start(
    ros_context, untrained_panda_policy: Path, factory: str, argument: str, message: str
) -> None:
    from ltc_control.nodes.bringup import node_factories

    node_class = node_factories()[f"{factory}_node"]
    args = ["--ros-args", "-p", argument, "-p", f"model_file:={untrained_panda_policy}"]
    with pytest.raises(Exception, match=message):
        node_class(context=ros_context, cli_args=args, use_global_arguments=False)
