"""`ltc-control explain MODEL`: figures, tree rules and a JSON summary explaining a policy.

The rollout is a rosbag2 directory or trajectory .npz (`--rollout`, the recorded inputs are
replayed through the policy), or, without --rollout, a closed-loop simulation in which the policy
drives the simulated arm (`--robot`, `--episodes`, `--duration`, `--rate`, `--seed`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ltc_control.cli.arguments import (
    existing_file,
    positive_float,
    positive_int,
    positive_int_list,
    robot_name,
)
from ltc_control.errors import LtcControlError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=existing_file, help="policy model file (.npz)")
    parser.add_argument(
        "--rollout", type=Path, help="rosbag2 directory or trajectory .npz to replay"
    )
    parser.add_argument(
        "--robot", type=robot_name, help="robot to simulate (default: from the model's inputs)"
    )
    parser.add_argument(
        "--episodes", type=positive_int, default=6, help="simulated episodes (without --rollout)"
    )
    parser.add_argument(
        "--duration", type=positive_float, default=6.0, help="s per simulated episode"
    )
    parser.add_argument("--rate", type=positive_float, default=100.0, help="control rate, Hz")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed")
    parser.add_argument(
        "--depths",
        type=positive_int_list,
        default=(1, 2, 3, 4, 6, 8, 12),
        help="decision-tree depths to fit, comma-separated (e.g. 1,3,6)",
    )
    parser.add_argument(
        "--rules-depth", type=positive_int, default=3, help="depth of the printed rules"
    )
    parser.add_argument("--output", type=Path, default=Path("runs/explain"), help="output folder")


def run(args: argparse.Namespace) -> int:
    from ltc_control.evaluation import simulate_trajectories
    from ltc_control.explain import ExplainOptions, explain_policy, load_trajectories
    from ltc_control.runtime import load_policy

    policy = load_policy(args.model)
    if args.rollout is not None:
        trajectories = load_trajectories(args.rollout, args.robot)
        source = f"replay of {args.rollout}"
    else:
        robot = args.robot or _robot_of(policy.input_names)
        trajectories = simulate_trajectories(
            policy, robot, args.episodes, args.duration, args.rate, args.seed
        )
        source = (
            f"closed loop in simulation: {robot}, {args.episodes} x {args.duration} s at "
            f"{args.rate} Hz, seed {args.seed}"
        )
    options = ExplainOptions(depths=tuple(args.depths), rules_depth=args.rules_depth)
    summary = explain_policy(policy, trajectories, args.output, options, source)
    _print_summary(summary, args.output)
    return 0


def _robot_of(input_names: list[str]) -> str:
    """The robot (config/<name>/robot.yaml) whose joints the model's inputs name."""
    from ltc_control.robots import available_robots, load_robot_description

    for robot in available_robots():
        joints = load_robot_description(robot).joint_names
        if all(f"position/{j}" in input_names for j in joints):
            return robot
    raise LtcControlError("cannot tell the robot from the model's inputs; pass --robot")


def _print_summary(summary: dict, output: Path) -> None:
    from ltc_control.explain.trees import verdict

    trees = summary["decision_tree"]
    print(f"[explain] {summary['model']['model_id']} on {summary['rollout']['source']}")
    print(f"  {summary['rollout']['steps']} steps, {summary['rollout']['episodes']} episodes")
    fast = [n["name"] for n in summary["neurons"] if n["speed"] == "fast"]
    print(f"  fast neurons ({summary['fast_neuron_rule']}): {', '.join(fast) or 'none'}")
    print(f"  decision trees, held-out R² per output ({trees['split']}):")
    for row in trees["fidelity"]:
        r2 = ", ".join(f"{v:.2f}" for v in row["r2_test"])
        print(f"    {row['feature_set']:>15} depth {row['depth']:>2}: [{r2}]")
    for name, why in trees["omitted_feature_sets"].items():
        print(f"    {name:>15} left out: {why}")
    print(f"  rules at depth {trees['rules_depth']}: {output / trees['rules_file']}")
    outputs = [o.split(" [")[0] for o in summary["model"]["outputs"]]
    for feature_set, r2s in trees["rules_r2_test"].items():
        for name, r2 in zip(outputs, r2s, strict=True):
            print(f"    {feature_set:>15} {name}: R² {r2:.2f}, {verdict(r2)}")
    print(f"  figures and summary.json in {output}")
