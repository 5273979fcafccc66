"""Paths in a training config mean what the user wrote: relative to the config file's folder,
never inside the installed package unless written package://ltc_control/..., and a shipped model
is only overwritten with --force."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from ltc_control.cli.main import main
from ltc_control.resources import robot_config, share_dir, shipped_policy
from ltc_control.training import TrainingConfigError, load_train_config, train_config_from_dict


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_copied_shipped_config_refuses_to_overwrite_the_shipped_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "t.yaml"
    shutil.copy(robot_config("double_pendulum", "train"), copy)
    shipped = shipped_policy("double_pendulum")
    before = _digest(shipped)
    assert main(["train", "--config", str(copy), "--model", "double_pendulum_cfc19"]) == 2
    error = capsys.readouterr().err
    assert f"{shipped} is a model the package ships: pass --force" in error
    assert _digest(shipped) == before
    assert not (tmp_path / "runs").exists()  # refused before any work
    config = load_train_config(copy)  # the refusal is the only obstacle
    config.check_outputs(force=True)


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, tiny_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "nb-bag").mkdir()
    config = tiny_config(tmp_path) | {"report_dir": "reports"}
    config["data"] = {"rosbags": ["../nb-bag"], "simulated": {"episodes": 2, "duration_s": 1.0}}
    config["models"] = [{"name": "m", "kind": "cfc", "units": 8, "output": "out/m.npz"}]
    path = tmp_path / "cfg" / "t.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path / "nb-bag")  # the working directory plays no part
    loaded = load_train_config(path)
    assert loaded.data.rosbags == (str(tmp_path / "nb-bag"),)
    assert loaded.report_dir == str(tmp_path / "cfg" / "reports")
    assert loaded.models[0].output == str(tmp_path / "cfg" / "out" / "m.npz")


def test_a_missing_bag_is_named_by_its_resolved_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("robot: double_pendulum\ndata: {rosbags: [nb-bag]}\n")
    with pytest.raises(TrainingConfigError, match=f"'data.rosbags\\[0\\]' {tmp_path}/nb-bag does"):
        load_train_config(path)


def test_relative_paths_never_land_in_the_package_unless_written_package_uri(
    tmp_path: Path, tiny_config
) -> None:
    inside = share_dir() / "config" / "double_pendulum"  # a config file shipped in the package
    config = tiny_config(tmp_path)
    config["models"] = [{"name": "m", "kind": "cfc", "units": 8, "output": "m.npz"}]
    with pytest.raises(TrainingConfigError, match=r"models\[0\]\.output.*inside the installed"):
        train_config_from_dict(config, base_dir=inside)
    config["models"][0]["output"] = "package://ltc_control/models/not_shipped.npz"
    explicit = train_config_from_dict(config, base_dir=inside)
    assert explicit.models[0].output == str(share_dir() / "models" / "not_shipped.npz")
    explicit.check_outputs()  # a new file in models/ is not a shipped model


def test_training_from_a_copied_config_writes_beside_it(tmp_path: Path, tiny_config) -> None:
    """The issue's case: a config under a temporary folder with a bag next to it and relative
    outputs, trained from another working directory (the rosbag alone is the data: seconds)."""
    from ltc_control.data import make_demo_bag

    make_demo_bag(tmp_path / "nb-bag", "double_pendulum", n_episodes=2, duration_s=1.0)
    config = tiny_config(tmp_path) | {"report_dir": "reports"}
    config["data"] = {"simulated": {"episodes": 0}, "rosbags": ["nb-bag"]}
    config["data"]["validation_fraction"] = 0.0
    config["training"] |= {"epochs": 1}
    config["dagger"] = {"rounds": 0}
    config["models"] = [{"name": "m", "kind": "cfc", "units": 8, "output": "out/m.npz"}]
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(config))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = _digest(shipped_policy("double_pendulum"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(elsewhere)
        assert main(["train", "--config", str(path), "--quiet"]) == 0
    assert (tmp_path / "out" / "m.npz").is_file()
    assert (tmp_path / "reports" / "m.json").is_file()
    assert not any(elsewhere.iterdir())
    assert _digest(shipped_policy("double_pendulum")) == before
