"""`ltc-control demo`: the closed-loop demo, all ROS 2 nodes in one process over real topics.

Brings up launch/sim.launch.xml (embedded MuJoCo sim in lockstep, target sequence, liquid policy,
safety filter) plus a recorder, runs a fixed span of sim time, prints a summary and writes a PNG
and a JSON summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from ltc_control.resources import share_dir, shipped_policy

TORQUE_PERIOD = 0.001  # s, as in config/<robot>.yaml (sim publish rate, filter rate)
POLICY_PERIOD = 0.01  # s, the policy's rate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--robot", default="panda", help="panda or double_pendulum")
    parser.add_argument("--model", type=Path, help="policy model file (default: the shipped one)")
    parser.add_argument("--duration", type=float, default=12.0, help="sim time to run, s")
    parser.add_argument("--output", type=Path, default=Path("runs/demo"), help="output folder")
    parser.add_argument("--timeout", type=float, default=110.0, help="wall-time limit, s")


def run(args: argparse.Namespace) -> int:
    import rclpy
    from rclpy.context import Context

    from ltc_control.control.metrics import end_effector_errors, summarize
    from ltc_control.control.report import plot_run
    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.recorder import RecorderNode
    from ltc_control.nodes.spin import make_executor

    model = args.model or shipped_policy(args.robot)
    context = Context()
    rclpy.init(context=context)
    try:
        bringup = build_nodes(
            share_dir() / "launch" / "sim.launch.xml",
            {"robot": args.robot, "model_file": str(model)},
            context,
        )
        nodes = {node.get_name(): node for node in bringup.nodes}
        print(f"[demo] policy: {model} (model id {nodes['policy'].policy.model_id})")
        recorder = RecorderNode(
            context=context,
            cli_args=["--ros-args", "-r", "commands:=/effort_controller/commands"],
            use_global_arguments=False,
        )
        executor = make_executor(context)
        for node in [*bringup.nodes, recorder]:
            executor.add_node(node)
        sim = nodes["sim"].sim
        start = time.monotonic()
        while sim.time < args.duration and time.monotonic() - start < args.timeout:
            executor.spin_once(timeout_sec=0.05)
        wall = time.monotonic() - start
        safety = nodes["safety_filter"]
        robot = safety.robot
        from ltc_control.robots.dynamics import PinocchioDynamics

        dynamics = PinocchioDynamics(robot)
        summary = summarize(recorder.recording, robot, dynamics, safety.config.force_max)
        errors = end_effector_errors(recorder.recording, robot, dynamics)
        args.output.mkdir(parents=True, exist_ok=True)
        figure = plot_run(recorder.recording, summary, robot, errors, args.output / "demo.png")
        expert_rmse = expert_reference(robot, nodes["target"].sequence, safety.filter, sim.time)
        report = {
            **dataclasses.asdict(summary),
            "violations": summary.violations,
            "sim_time_s": sim.time,
            "wall_time_s": wall,
            "model": str(model),
            "model_id": nodes["policy"].policy.model_id,
            "robot": robot.name,
            "expert_tracking_rmse_m": expert_rmse,
        }
        (args.output / "demo.json").write_text(json.dumps(report, indent=2))
        _print_summary(report, figure)
        for node in [*bringup.nodes, recorder]:
            node.destroy_node()
    finally:
        if context.ok():
            rclpy.shutdown(context=context)
    return 0 if sim.time >= args.duration else 1


def expert_reference(
    robot: object, targets: object, safety_filter: object, duration: float
) -> float:
    """Tracking RMSE (m) of the model-based expert on the same targets and loop rates: the
    yardstick for the policy's figure (same sim, 100 Hz nominal, 1 kHz filtered torque)."""
    import numpy as np

    from ltc_control.robots.dynamics import PinocchioDynamics
    from ltc_control.sim import ArmSimulator
    from ltc_control.sim.expert import OperationalSpaceExpert

    sim, expert = ArmSimulator(robot), OperationalSpaceExpert(PinocchioDynamics(robot))
    errors, nominal = [], None
    for step in range(round(duration / TORQUE_PERIOD)):
        state = sim.measure()
        target = targets.at(state.time)
        if step % round(POLICY_PERIOD / TORQUE_PERIOD) == 0:
            nominal = expert.torque(state.q, state.v, target)
        sim.apply(safety_filter.filter(state.q, state.v, nominal).command)
        sim.advance(TORQUE_PERIOD)
        errors.append(np.linalg.norm(state.ee_position - target))
    return float(np.sqrt(np.mean(np.square(errors))))


def _print_summary(r: dict, figure: Path) -> None:
    finals = ", ".join(f"{e:.3f}" for e in r["final_errors_m"])
    rows = [
        ("tracking RMSE", f"{r['tracking_rmse_m']:.3f} m (final error per target: {finals} m)"),
        (
            "expert, same targets",
            f"{r['expert_tracking_rmse_m']:.3f} m RMSE (model-based, same sim and filter, no ROS)",
        ),
        (
            "filter interventions",
            f"{r['interventions']} of {r['filter_steps']} cycles sampled by SafetyStatus, {r['fallbacks']} braking",
        ),
        ("max torque / limit", f"{r['max_torque_ratio']:.2f}"),
        (
            "max contact force",
            f"{r['max_contact_force_n']:.1f} N (F_max {r['force_limit_n']:.1f} N)",
        ),
        (
            "limit violations",
            f"{r['violations']} (position {r['position_violations']}, velocity "
            f"{r['velocity_violations']}, torque {r['torque_violations']}, force {r['force_violations']})",
        ),
        ("figure", str(figure)),
    ]
    print(
        f"[demo] {r['robot']}, policy {r['model_id']}: {r['sim_time_s']:.1f} s of sim time in {r['wall_time_s']:.1f} s wall"
    )
    for name, value in rows:
        print(f"  {name:<24} {value}")
