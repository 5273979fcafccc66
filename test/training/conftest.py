"""Shared fixtures: one tiny end-to-end training run (double pendulum, seconds) for all tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ltc_control.training import train_config_from_dict


def _tiny_config(tmp: Path, **overrides) -> dict:
    config = {
        "robot": "double_pendulum",
        "seed": 3,
        "report_dir": str(tmp / "reports"),
        "data": {"simulated": {"episodes": 6, "duration_s": 2.0}, "validation_fraction": 0.2},
        "training": {
            "epochs": 8,
            "batch_size": 5,
            "window_s": 0.5,
            "learning_rate": 0.02,
            "threads": 1,
        },
        "dagger": {"rounds": 1, "episodes": 2, "epochs": 2},
        "models": [{"name": "tiny_cfc", "kind": "cfc", "units": 8, "output": str(tmp / "cfc.npz")}],
    }
    return config | overrides


@pytest.fixture
def tiny_config():
    """tiny_config(tmp_path, **overrides) -> a small valid training config mapping."""
    return _tiny_config


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(config, data, results) of a tiny CfC + LSTM + MLP training run."""
    from ltc_control.training.trainer import run_training

    tmp = tmp_path_factory.mktemp("tiny_run")
    models = [
        {"name": "tiny_cfc", "kind": "cfc", "units": 8, "output": str(tmp / "cfc.npz")},
        {"name": "tiny_lstm", "kind": "lstm", "units": 6, "output": str(tmp / "lstm.npz")},
        {"name": "tiny_mlp", "kind": "mlp", "units": 8, "output": str(tmp / "mlp.npz")},
    ]
    config = train_config_from_dict(_tiny_config(tmp, models=models))
    data, results = run_training(config)
    return config, data, {r.name: r for r in results}
