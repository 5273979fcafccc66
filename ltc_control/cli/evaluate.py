"""`ltc-control evaluate --model models/panda_cfc19.npz`: closed-loop episodes vs the expert.

Runs the policy (numpy runtime, through PolicyController, commands through the SafetyFilter)
and the expert on the same seeded episodes and prints both summaries (reach metrics first:
reach5 / reach2 = fraction of reachable holds ending within 5 / 2 cm, final error, time to reach,
moving-target RMSE, closest approach to unreachable targets; then tracking RMSE, effort, filter
activity, violations) and the RMSE ratio.
"""

from __future__ import annotations

import argparse
import json
import sys

from ltc_control.errors import LtcControlError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model file (runtime or baseline .npz)")
    parser.add_argument("--robot", help="robot name (default: from the file name, <robot>_...)")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--duration", type=float, default=4.0, help="s per episode")
    parser.add_argument("--rate", type=float, default=100.0, help="sensor rate, Hz")
    parser.add_argument("--jitter", type=float, default=0.0, help="timing jitter fraction")
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--no-filter", action="store_true", help="apply commands unfiltered")
    parser.add_argument(
        "--torque-loop",
        action="store_true",
        help="run the filter every control_period of config/safety (1 kHz) instead of per sample",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ltc_control.robots import available_robots, load_robot_description
    from ltc_control.training import Condition, EvaluationConfig, Evaluator, summarize
    from ltc_control.training.baselines import load_trained_policy

    robot_name = args.robot or next(
        (r for r in available_robots() if Path(args.model).name.startswith(f"{r}_")), None
    )
    if robot_name is None:
        print("ltc-control evaluate: give --robot (not in the model file name)", file=sys.stderr)
        return 2
    try:
        policy = load_trained_policy(args.model)
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
    except LtcControlError as exc:
        print(f"ltc-control evaluate: {exc}", file=sys.stderr)
        return 1
    ratio = learned["tracking_rmse_mean"] / expert["tracking_rmse_mean"]
    print(
        json.dumps({"policy": learned, "expert": expert, "rmse_ratio_vs_expert": ratio}, indent=1)
    )
    return 0
