"""The demo's ROS side: launch/sim.launch.xml's nodes plus a recorder, in one process over real
topics, run for a span of sim time. Summaries and figures are computed elsewhere (cli.demo)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ltc_control.evaluation.run_metrics import Recording
from ltc_control.nodes.target_node import TargetSequence
from ltc_control.resources import launch_path
from ltc_control.robots.description import RobotDescription
from ltc_control.safety import SafetyFilter


@dataclass(frozen=True)
class DemoRun:
    recording: Recording
    robot: RobotDescription
    model_id: str
    sim_time_s: float
    wall_time_s: float
    targets: TargetSequence  # what the target node published
    safety_filter: SafetyFilter  # the filter node's, with its configuration


def run_demo(robot: str, model: Path, duration: float, timeout: float) -> DemoRun:
    """Run until `duration` s of sim time or `timeout` s of wall time, whichever comes first."""
    import rclpy
    from rclpy.context import Context

    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.recorder import RecorderNode
    from ltc_control.nodes.spin import init_ros, make_executor

    context = Context()
    init_ros(context)
    try:
        launch = launch_path("sim.launch.xml")
        nodes = build_nodes(launch, {"robot": robot, "model_file": str(model)}, context).nodes
        recorder = RecorderNode(
            context=context,
            cli_args=["--ros-args", "-r", "commands:=/effort_controller/commands"],
            use_global_arguments=False,
        )
        named = {node.get_name(): node for node in nodes}
        executor = make_executor(context)
        for node in [*nodes, recorder]:
            executor.add_node(node)
        sim = named["sim"].sim
        start = time.monotonic()
        while sim.time < duration and time.monotonic() - start < timeout:
            executor.spin_once(timeout_sec=0.05)
        run = DemoRun(
            recording=recorder.recording,
            robot=named["safety_filter"].robot,
            model_id=named["policy"].policy.model_id,
            sim_time_s=sim.time,
            wall_time_s=time.monotonic() - start,
            targets=named["target"].sequence,
            safety_filter=named["safety_filter"].filter,
        )
        for node in [*nodes, recorder]:
            node.destroy_node()
        return run
    finally:
        if context.ok():
            rclpy.shutdown(context=context)
