"""Closed loop in MuJoCo: an aggressive controller (joint targets beyond the limits, end effector
pushed through the table) never violates a limit through the filter, and does without it.

CI runs a seeded subset (the full 200-episode runs per robot are `python -m
ltc_control.evaluation.safety_episodes`, reported in the safety report); the violation counts are
exact.
"""

from __future__ import annotations

import pytest

from ltc_control.evaluation.safety_episodes import EvaluationConfig, evaluate
from ltc_control.safety import load_safety_config

EPISODES = 20  # per robot and seed block, 1 s of simulated time each


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_filter_prevents_every_violation(robot, robot_name, seed) -> None:
    config = load_safety_config(robot_name)
    report = evaluate(robot, config, EvaluationConfig(episodes=EPISODES, seed=seed))
    assert report.total_violations == 0, report.summary()
    assert report.max_contact_force <= config.force_max * 1.05
    assert report.filter_counters["filtered"] > 0.99 * report.steps


@pytest.mark.slow
def test_without_filter_the_same_controller_violates_limits(robot, robot_name) -> None:
    config = load_safety_config(robot_name)
    report = evaluate(robot, config, EvaluationConfig(episodes=4, use_filter=False))
    for kind in ("position", "velocity", "torque"):
        assert report.violating_episodes[kind] >= 1, (kind, report.summary())


@pytest.mark.slow
def test_mass_mismatch_is_absorbed_by_the_shipped_margins(robot, robot_name) -> None:
    """±10 % per-body mass and inertia error in the simulator; the filter keeps the nominal
    model. The shipped margins were measured for this (config/*/safety.yaml comments)."""
    config = load_safety_config(robot_name)
    report = evaluate(robot, config, EvaluationConfig(episodes=EPISODES, seed=7, mass_spread=0.1))
    assert report.total_violations == 0, report.summary()


@pytest.mark.parametrize("episodes", [0, -3])
def test_an_evaluation_that_would_run_nothing_is_refused(robot, robot_name, episodes) -> None:
    """Zero violations over zero steps must not read as a pass."""
    from ltc_control.errors import ConfigError

    with pytest.raises(ConfigError, match=f"nothing to evaluate: {episodes} episodes"):
        evaluate(robot, load_safety_config(robot_name), EvaluationConfig(episodes=episodes))
