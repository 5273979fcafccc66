"""Training and closed-loop evaluation of liquid (CfC, LTC) and baseline (LSTM, MLP) policies.

Public API:
- `load_train_config(path) -> TrainConfig` (TrainingConfigError naming the key),
  `run_training(config, progress) -> (DataBundle, [TrainResult])`, `prepare_data`, `Trainer`;
- `Evaluator(robot, EvaluationConfig)` with `run_episode` / `evaluate`, `Condition`,
  `NOMINAL`, `RATE_SHIFT`, `summarize` (closed loop through PolicyController + SafetyFilter);
- `load_trained_policy(path)`: runtime LiquidPolicy or numpy LSTM/MLP BaselinePolicy.
torch is imported only when a model is built or trained; evaluation needs numpy only.
"""

from ltc_control.evaluation.closed_loop import (
    NOMINAL,
    RATE_SHIFT,
    Condition,
    EvaluationConfig,
    Evaluator,
    summarize,
)
from ltc_control.training.baselines import BaselinePolicy, load_trained_policy
from ltc_control.training.config import TrainConfig, load_train_config, train_config_from_dict
from ltc_control.training.errors import TrainingConfigError, TrainingDataError

__all__ = [
    "NOMINAL",
    "RATE_SHIFT",
    "BaselinePolicy",
    "Condition",
    "EvaluationConfig",
    "Evaluator",
    "TrainConfig",
    "TrainingConfigError",
    "TrainingDataError",
    "load_train_config",
    "load_trained_policy",
    "summarize",
    "train_config_from_dict",
]
