"""Closed-loop evaluation: one home for running episodes and turning them into numbers and figures.

- closed_loop: policy episodes in the simulator the way the policy is deployed
  (`Evaluator(robot, EvaluationConfig)` with `run_episode` / `evaluate`, `Condition`, `NOMINAL`,
  `RATE_SHIFT`, `summarize`; a learned policy runs behind PolicyController and the filter behind
  FilterLoop, as deployed), and `simulate_trajectories` (a policy drives, the expert labels);
- safety_episodes: the safety filter against an aggressive controller, every limit checked at
  1 kHz (`python -m ltc_control.evaluation.safety_episodes`, `ltc-control safety-eval`);
- run_metrics: what a recorded ROS run did (tracking, effort, filter activity, violations);
- plots: that run as a figure (matplotlib, imported only there).
numpy, the simulator and the safety core; no torch, no rclpy.
"""

from ltc_control.evaluation.closed_loop import (
    NOMINAL,
    RATE_SHIFT,
    Condition,
    EvaluationConfig,
    Evaluator,
    simulate_trajectories,
    summarize,
)
from ltc_control.evaluation.errors import EvaluationConfigError, EvaluationError

__all__ = [
    "NOMINAL",
    "RATE_SHIFT",
    "Condition",
    "EvaluationConfig",
    "EvaluationConfigError",
    "EvaluationError",
    "Evaluator",
    "simulate_trajectories",
    "summarize",
]
