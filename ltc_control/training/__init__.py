"""Training of liquid (CfC, LTC) and baseline (LSTM, MLP) policies.

Public API:
- `load_train_config(path) -> TrainConfig` (TrainingConfigError naming the key),
  `run_training(config, progress) -> (DataBundle, [TrainResult])`, `prepare_data`, `Trainer`;
- `load_trained_policy(path)`: runtime LiquidPolicy or numpy LSTM/MLP BaselinePolicy.
torch is imported only when a model is built or trained. Closed-loop evaluation lives in
ltc_control.evaluation.
"""

from ltc_control.training.baselines import BaselinePolicy, load_trained_policy
from ltc_control.training.config import TrainConfig, load_train_config, train_config_from_dict
from ltc_control.training.errors import TrainingConfigError, TrainingDataError

__all__ = [
    "BaselinePolicy",
    "TrainConfig",
    "TrainingConfigError",
    "TrainingDataError",
    "load_train_config",
    "load_trained_policy",
    "train_config_from_dict",
]
