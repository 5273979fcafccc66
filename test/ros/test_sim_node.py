"""The simulator node: its configuration, and the timing figures it reports on /diagnostics."""

from __future__ import annotations

import pytest

from ltc_control.errors import ConfigError
from ltc_control.resources import share_dir

pytestmark = pytest.mark.ros


def test_wall_clock_stamps_are_refused_in_lockstep(ros_context) -> None:
    """Lockstep time advances only when a command arrives: wall-clock stamps would lie."""
    from ltc_control.nodes.sim_node import SimNode

    args = ["--ros-args", "-p", "lockstep:=true", "-p", "wall_clock_stamps:=true"]
    with pytest.raises(ConfigError, match="'wall_clock_stamps' needs lockstep false"):
        SimNode(context=ros_context, cli_args=args, use_global_arguments=False)


def test_diagnostics_latency_figures_are_not_shifted_by_states_sent_before_the_filter_listened(
    ros_context, spin_until
) -> None:
    """Issue 13: the sim's first joint state went out before the filter subscribed; pairing
    each answer with the state before its own then read every answer as late and every latency
    one period too long (late_answers 11020 of ~11021 cycles). A late answer can only follow a
    missed command (the sim stepped without it), so late_answers <= missed_commands."""
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.node import Node

    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.spin import make_executor

    launch = share_dir() / "launch" / "sim.launch.xml"
    nodes = build_nodes(launch, {"robot": "double_pendulum"}, ros_context).nodes
    listener = Node("diagnostics_listener", context=ros_context)
    reports: list[dict[str, str]] = []

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.startswith("sim"):
                reports.append({kv.key: kv.value for kv in status.values})

    listener.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    executor = make_executor(ros_context)
    for node in [*nodes, listener]:
        executor.add_node(node)
    sim = next(node for node in nodes if node.get_name() == "sim")
    try:
        assert spin_until(executor, lambda: sim.sim.time >= 2.0, timeout=60.0)
        reported = lambda: bool(reports) and float(reports[-1]["sim_time_s"]) >= 1.0  # noqa: E731
        assert spin_until(executor, reported, timeout=10.0)
    finally:
        for node in [*nodes, listener]:
            node.destroy_node()
    cycles = round(sim.sim.time / sim.period)
    assert sim.latency.late <= sim.missed_commands, (sim.latency.late, sim.missed_commands, cycles)
    report = reports[-1]
    assert int(report["late_answers"]) <= int(report["missed_commands"]), report
    assert len(sim.latency.samples_s) >= 0.9 * cycles  # nearly every state was answered
