"""`ltc-control evaluate --model models/panda_cfc19.npz`: closed-loop episodes vs the expert.

Runs the policy (numpy runtime, through PolicyController, commands through the SafetyFilter)
and the expert on the same seeded episodes and prints both summaries and the RMSE ratio.
"""

from __future__ import annotations

import argparse
import json

from ltc_control.cli.arguments import (
    existing_file,
    non_negative_float,
    positive_float,
    positive_int,
    robot_name,
)
from ltc_control.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, type=existing_file, help="model file (runtime or baseline .npz)"
    )
    parser.add_argument(
        "--robot", type=robot_name, help="robot (default: from the file name, <robot>_...)"
    )
    parser.add_argument("--episodes", type=positive_int, default=20, help="seeded episodes")
    parser.add_argument("--duration", type=positive_float, default=4.0, help="s per episode")
    parser.add_argument("--rate", type=positive_float, default=100.0, help="sensor rate, Hz")
    parser.add_argument(
        "--jitter",
        type=non_negative_float,
        default=0.0,
        help="timing jitter: each sensor interval scaled by 1 + jitter * u, u in [-1, 1]",
    )
    parser.add_argument(
        "--seed", type=int, default=10_000, help="seed the episodes' seeds are drawn from"
    )
    parser.add_argument("--no-filter", action="store_true", help="apply commands unfiltered")
    parser.add_argument(
        "--torque-loop",
        action="store_true",
        help="run the filter every control_period of config/<robot>/safety.yaml (1 kHz) instead of per sample",
    )


def run(args: argparse.Namespace) -> int:
    from ltc_control.evaluation import Condition, EvaluationConfig, Evaluator, summarize
    from ltc_control.robots import available_robots, load_robot_description
    from ltc_control.training.baselines import load_trained_policy

    policy = load_trained_policy(args.model)
    robot_name = args.robot or next(
        (r for r in available_robots() if args.model.name.startswith(f"{r}_")), None
    )
    if robot_name is None:
        raise ConfigError(
            f"cannot tell the robot from the file name {args.model.name}: give --robot "
            f"({', '.join(available_robots())})"
        )
    robot = load_robot_description(robot_name)
    config = EvaluationConfig(
        episodes=args.episodes,
        duration_s=args.duration,
        seed=args.seed,
        use_filter=not args.no_filter,
        filter_at_sensor_rate=not args.torque_loop,
    )
    condition = Condition("cli", args.rate, args.jitter)
    evaluator = Evaluator(robot, config)
    learned = summarize(
        evaluator.evaluate(lambda c: evaluator.learned_controller(policy, c), condition)
    )
    expert = summarize(evaluator.evaluate(lambda c: evaluator.expert_controller(), condition))
    ratio = learned["tracking_rmse_mean"] / expert["tracking_rmse_mean"]
    print(
        json.dumps({"policy": learned, "expert": expert, "rmse_ratio_vs_expert": ratio}, indent=1)
    )
    return 0
