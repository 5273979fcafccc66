"""A tiny model trains end to end in seconds: the loss falls, the files exist, the model file
loads in the numpy runtime without torch, and the exported policy computes what torch computed."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from ltc_control.robots import load_robot_description
from ltc_control.runtime.signals import policy_input_names, policy_output_names

JOINTS = load_robot_description("double_pendulum").joint_names


def test_loss_falls_and_reports_are_written(tiny_run):
    _, data, results = tiny_run
    for result in results.values():
        history = result.report["history"]
        bc = [
            loss
            for loss, phase in zip(history["train_loss"], history["phase"], strict=True)
            if phase == "bc"
        ]
        assert bc[-1] < bc[0], result.name  # DAgger adds harder episodes: compare within BC
        assert history["phase"][-1] == "dagger1"
        assert result.plot_path.stat().st_size > 1000
        report = json.loads(result.report_path.read_text())
        assert report["data"]["curation"]["kept_samples"] > 0
        assert report["input_names"] == policy_input_names(JOINTS)
        assert report["output_names"] == policy_output_names(JOINTS)
        assert [d["round"] for d in report["dagger"]] == [1]
        assert all(np.isfinite(history["validation_loss"]))
    assert data.report["episodes_validation"] >= 1


def test_model_file_loads_without_torch(tiny_run):
    _, _, results = tiny_run
    script = (
        "import sys\n"
        "sys.modules['torch'] = None  # any torch import now fails\n"
        "from ltc_control.runtime import load_policy\n"
        "from ltc_control.training.baselines import load_trained_policy\n"
        f"policy = load_policy({str(results['tiny_cfc'].model_path)!r})\n"
        "print(policy.kind, len(policy.step([0.3, 0.4, 0, 0, 0.1, 0.0, 0.2], 0.01)))\n"
        f"lstm = load_trained_policy({str(results['tiny_lstm'].model_path)!r})\n"
        "print(lstm.kind, len(lstm.step([0.3, 0.4, 0, 0, 0.1, 0.0, 0.2], 0.01)))\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["cfc", "2", "lstm", "2"]


def test_training_is_reproducible(tiny_run, tmp_path):
    """Same config, same seed -> the same weights (data collection and training seeded)."""
    import dataclasses

    from ltc_control.runtime import load_policy
    from ltc_control.training.trainer import run_training

    config, _, results = tiny_run
    spec = dataclasses.replace(config.models[0], output=str(tmp_path / "again.npz"))
    again = dataclasses.replace(config, models=(spec,), report_dir=str(tmp_path))
    run_training(again)
    first = load_policy(results["tiny_cfc"].model_path).network.params()
    second = load_policy(tmp_path / "again.npz").network.params()
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_trains_from_a_rosbag_with_curation_report(tmp_path, tiny_config):
    """A rosbag2 recording alone is a data source; the curation report lands in the JSON."""
    from ltc_control.data.demo import make_demo_bag
    from ltc_control.training import train_config_from_dict
    from ltc_control.training.trainer import run_training

    bag = make_demo_bag(tmp_path / "demo_bag", "double_pendulum", n_episodes=3, duration_s=1.5)
    config = tiny_config(tmp_path)
    config["data"] = {
        "simulated": {"episodes": 0},
        "rosbags": [str(bag)],
        "validation_fraction": 0.0,
    }
    config["training"] |= {"epochs": 2}
    config["dagger"] = {"rounds": 0}
    data, (result,) = run_training(train_config_from_dict(config))
    report = json.loads(result.report_path.read_text())
    assert report["data"]["rosbags"] == [str(bag)]
    assert report["data"]["episodes_before_curation"] == 3
    assert report["data"]["curation"]["input_samples"] > 3 * 100  # ~150 samples per episode
    assert set(report["data"]["curation"]["dropped"]) >= {"nonfinite", "duplicate"}
    assert data.report["episodes_train"] >= 1


def test_too_few_episodes_for_a_validation_split_is_said_once(tmp_path, tiny_config, caplog):
    """2 episodes x 0.2 rounds to no validation episode: one warning says so, and no report,
    plot title or summary line pretends there is a validation loss (no silent val=nan)."""
    from ltc_control.training import train_config_from_dict
    from ltc_control.training.trainer import run_training

    config = tiny_config(tmp_path)
    config["data"] = {"simulated": {"episodes": 2, "duration_s": 1.0}, "validation_fraction": 0.2}
    config["training"] |= {"epochs": 2}
    config["dagger"] = {"rounds": 0}
    config["models"] = [
        {"name": "tiny_mlp", "kind": "mlp", "units": 4, "output": str(tmp_path / "m.npz")}
    ]
    with caplog.at_level("WARNING", logger="ltc_control.training"):
        data, (result,) = run_training(train_config_from_dict(config))
    warnings = [r.getMessage() for r in caplog.records if "validation" in r.getMessage()]
    assert len(warnings) == 1 and "no validation split: 2 episodes" in warnings[0], warnings
    assert "at least 3 episodes" in warnings[0]
    assert data.report["episodes_validation"] == 0
    report = json.loads(result.report_path.read_text(), parse_constant=_refuse_nan)
    assert report["final_validation_loss"] is None


def _refuse_nan(constant: str) -> None:
    raise ValueError(f"{constant} in a training report")
