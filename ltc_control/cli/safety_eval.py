"""`ltc-control safety-eval ROBOT`: the safety filter's closed-loop evaluation in MuJoCo.

An aggressive nominal controller drives the arm toward joint targets beyond the position limits
and pushes the end effector through the table; the filter (or nothing, --no-filter) sits between
it and the motors, and every 1 kHz physics step is checked against the robot's limits. Prints the
report as one JSON line: episodes, steps, violating episodes/steps per kind (position, velocity,
torque, force), worst excess over each limit (rad, rad/s, N·m, N), filter counters and p50 time.
"""

from __future__ import annotations

import argparse

from ltc_control.cli.arguments import (
    non_negative_float,
    positive_float,
    positive_int,
    robot_name,
)
from ltc_control.errors import ConfigError, did_you_mean


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("robot", type=robot_name, help="robot (a folder of config/, e.g. panda)")
    parser.add_argument("--episodes", type=positive_int, default=200, help="seeded episodes")
    parser.add_argument("--duration", type=positive_float, default=1.0, help="s per episode")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes")
    parser.add_argument("--no-filter", action="store_true", help="the nominal torque, unfiltered")
    parser.add_argument(
        "--mass-spread",
        type=non_negative_float,
        default=0.0,
        help="model mismatch: every body's mass and inertia scaled by a factor in [1-F, 1+F]",
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        type=_override,
        metavar="KEY=VALUE",
        help="override a key of config/<robot>/safety.yaml (true/false, a number, or n1,n2,...)",
    )


def run(args: argparse.Namespace) -> int:
    import json

    from ltc_control.evaluation.safety_episodes import EvaluationConfig, evaluate
    from ltc_control.robots import load_robot_description
    from ltc_control.safety.config import SafetyConfig, load_safety_config

    robot = load_robot_description(args.robot)
    config = load_safety_config(args.robot).to_dict()
    overrides = dict(args.set)
    for key in overrides:
        if key not in config:
            raise ConfigError(f"--set {key}: not a safety config key{did_you_mean(key, config)}")
    safety_config = SafetyConfig.from_dict({**config, **overrides})
    evaluation = EvaluationConfig(
        episodes=args.episodes,
        duration_s=args.duration,
        seed=args.seed,
        use_filter=not args.no_filter,
        mass_spread=args.mass_spread,
    )
    report = evaluate(robot, safety_config, evaluation)
    arguments = {k: v for k, v in vars(args).items() if k not in ("run", "command")}
    print(json.dumps({**arguments, "set": overrides, **report.summary()}))
    return 0


def _override(text: str) -> tuple[str, object]:
    """KEY=VALUE with VALUE true/false, a number, or a comma-separated list of numbers."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    try:
        numbers = [float(item) for item in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{key}: expected true/false, a number or n1,n2,..., got {value!r}"
        ) from None
    return key, numbers if "," in value else numbers[0]
