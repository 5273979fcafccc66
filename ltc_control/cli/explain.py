"""`ltc-control explain MODEL`: figures, tree rules and a JSON summary explaining a policy.

The rollout is a rosbag2 directory or trajectory .npz (`--rollout`, the recorded inputs are
replayed through the policy), or, without --rollout, a closed-loop simulation in which the policy
drives the simulated arm (`--robot`, `--episodes`, `--duration`, `--rate`, `--seed`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ltc_control.errors import LtcControlError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="policy model file (.npz)")
    parser.add_argument(
        "--rollout", type=Path, help="rosbag2 directory or trajectory .npz to replay"
    )
    parser.add_argument("--robot", help="robot to simulate (default: from the model's joint names)")
    parser.add_argument("--episodes", type=int, default=6, help="simulated episodes")
    parser.add_argument("--duration", type=float, default=6.0, help="s per simulated episode")
    parser.add_argument("--rate", type=float, default=100.0, help="control rate, Hz")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed")
    parser.add_argument("--depths", default="1,2,3,4,6,8,12", help="decision-tree depths")
    parser.add_argument("--rules-depth", type=int, default=3, help="depth of the printed rules")
    parser.add_argument("--output", type=Path, default=Path("runs/explain"), help="output folder")


def run(args: argparse.Namespace) -> int:
    from ltc_control.evaluation import simulate_trajectories
    from ltc_control.explain import ExplainOptions, explain_policy, load_trajectories
    from ltc_control.runtime import load_policy

    try:
        policy = load_policy(args.model)
        if args.rollout is not None:
            trajectories, source = (
                load_trajectories(args.rollout, args.robot),
                f"replay of {args.rollout}",
            )
        else:
            robot = args.robot or _robot_of(policy.input_names)
            trajectories = simulate_trajectories(
                policy, robot, args.episodes, args.duration, args.rate, args.seed
            )
            source = f"closed loop in simulation: {robot}, {args.episodes} x {args.duration} s at {args.rate} Hz, seed {args.seed}"
        options = ExplainOptions(
            depths=tuple(int(d) for d in args.depths.split(",")), rules_depth=args.rules_depth
        )
        summary = explain_policy(policy, trajectories, args.output, options, source)
    except (LtcControlError, ValueError) as exc:
        print(f"ltc-control explain: {exc}")
        return 2
    _print_summary(summary, args.output)
    return 0


def _robot_of(input_names: list[str]) -> str:
    """The robot (config/robots/<name>.yaml) whose joints the model's inputs name."""
    from ltc_control.resources import config_path
    from ltc_control.robots import load_robot_description

    for robot in sorted(p.stem for p in config_path("robots").glob("*.yaml")):
        joints = load_robot_description(robot).joint_names
        if all(f"position/{j}" in input_names for j in joints):
            return robot
    raise LtcControlError("cannot tell the robot from the model's inputs; pass --robot")


def _print_summary(summary: dict, output: Path) -> None:
    print(f"[explain] {summary['model']['model_id']} on {summary['rollout']['source']}")
    print(f"  {summary['rollout']['steps']} steps, {summary['rollout']['episodes']} episodes")
    fast = [n["name"] for n in summary["neurons"] if n["speed"] == "fast"]
    print(f"  fast neurons ({summary['fast_neuron_rule']}): {', '.join(fast) or 'none'}")
    print(f"  decision trees, held-out R² ({summary['decision_tree']['split']}):")
    for row in summary["decision_tree"]["fidelity"]:
        r2 = ", ".join(f"{v:.2f}" for v in row["r2_test"])
        print(f"    {row['feature_set']:>15} depth {row['depth']:>2}: [{r2}]")
    print(f"  rules: {output / summary['decision_tree']['rules_file']}")
    print(f"  figures and summary.json in {output}")
