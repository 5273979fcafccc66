"""A small demo recording: expert rollouts in the simulator, written as a rosbag2.

    .venv/bin/python -m ltc_control.data.demo OUTPUT_DIR [--robot double_pendulum] [--storage mcap]

The JointState arrays are written in reversed joint order on purpose, so readers that match
joints by position instead of by name fail on the demo.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

from ltc_control.data.bags import BagTopics, write_bag
from ltc_control.robots import load_robot_description
from ltc_control.sim.rollouts import RolloutConfig, collect_rollouts


def make_demo_bag(
    path: str | Path,
    robot: str = "double_pendulum",
    storage: Literal["mcap", "sqlite3"] = "mcap",
    n_episodes: int = 2,
    duration_s: float = 2.0,
    rate_hz: float = 100.0,
    seed: int = 0,
) -> Path:
    """Record n_episodes expert rollouts (sensor noise, 10 % rate jitter) into a bag at `path`."""
    description = load_robot_description(robot)
    config = RolloutConfig(q_noise_std=0.001, v_noise_std=0.01)
    trajectories = collect_rollouts(
        description, n_episodes, duration_s, rate_hz, jitter=0.1, seed=seed, config=config
    )
    order = tuple(reversed(description.joint_names))
    return write_bag(trajectories, path, storage=storage, joint_order=order)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="bag directory to create")
    parser.add_argument(
        "--robot", default="double_pendulum", help="robot (a folder of config/, e.g. panda)"
    )
    parser.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=2.0, help="s per episode")
    parser.add_argument("--rate", type=float, default=100.0, help="Hz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = make_demo_bag(
        args.output, args.robot, args.storage, args.episodes, args.duration, args.rate, args.seed
    )
    topics = BagTopics()
    print(
        f"wrote {path}: {args.episodes} expert rollouts of the {args.robot} ({args.duration} s "
        f"each at {args.rate} Hz, {args.storage}) on {topics.joint_states}, {topics.target} and "
        f"{topics.command}"
    )


if __name__ == "__main__":
    main()
