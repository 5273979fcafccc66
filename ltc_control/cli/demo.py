"""`ltc-control demo`: the closed-loop demo, all ROS 2 nodes in one process over real topics.

Brings up launch/sim.launch.xml (embedded MuJoCo sim in lockstep, target sequence, liquid policy,
safety filter) plus a recorder, runs a fixed span of sim time, prints a summary and writes a PNG
and a JSON summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from ltc_control.cli.arguments import existing_file, positive_float, robot_name
from ltc_control.resources import shipped_policy

POLICY_PERIOD = 0.01  # s, the policy's rate (config/<robot>/ros.yaml)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--robot", type=robot_name, default="panda", help="robot (a folder of config/, e.g. panda)"
    )
    parser.add_argument(
        "--model",
        type=existing_file,
        help="policy model file (.npz; default: models/<robot>_cfc19.npz, shipped)",
    )
    parser.add_argument("--duration", type=positive_float, default=12.0, help="sim time to run, s")
    parser.add_argument("--output", type=Path, default=Path("runs/demo"), help="output folder")
    parser.add_argument("--timeout", type=positive_float, default=110.0, help="wall-time limit, s")


def run(args: argparse.Namespace) -> int:
    from ltc_control.evaluation.plots import plot_run
    from ltc_control.evaluation.run_metrics import expert_tracking_rmse, summarize
    from ltc_control.nodes.demo import run_demo
    from ltc_control.robots.dynamics import PinocchioDynamics

    model = args.model or shipped_policy(args.robot)
    print(f"[demo] policy: {model}")
    demo = run_demo(args.robot, model, args.duration, args.timeout)
    robot, force_limit = demo.robot, demo.safety_filter.config.force_max
    trajectory = demo.recording.trajectory(robot, PinocchioDynamics(robot))
    summary = summarize(demo.recording, trajectory, robot, force_limit)
    args.output.mkdir(parents=True, exist_ok=True)
    figure = plot_run(demo.recording, trajectory, summary, robot, args.output / "demo.png")
    report = {
        **dataclasses.asdict(summary),
        "violations": summary.violations,
        "sim_time_s": demo.sim_time_s,
        "wall_time_s": demo.wall_time_s,
        "model": str(model),
        "model_id": demo.model_id,
        "robot": robot.name,
        "expert_tracking_rmse_m": expert_tracking_rmse(
            robot, demo.targets.at, demo.safety_filter, demo.sim_time_s, POLICY_PERIOD
        ),
    }
    (args.output / "demo.json").write_text(json.dumps(report, indent=2))
    _print_summary(report, figure)
    return 0 if demo.sim_time_s >= args.duration else 1


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
            f"{r['interventions']} of {r['filter_steps']} cycles sampled by SafetyStatus, "
            f"{r['fallbacks']} braking, {r['waiting']} waiting for the first nominal command",
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
