"""`ltc-control explain` on a recorded rosbag2 and a trajectory file; `ltc-control export`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from explain_cases import case_ids

from ltc_control.cli.main import main
from ltc_control.edge.onnx_runner import OnnxPolicy
from ltc_control.explain import ExplainError, load_trajectories, save_trajectories

PENDULUM = case_ids()[1:2]  # double_pendulum_cfc19, shipped or stand-in


@pytest.mark.parametrize("explained", PENDULUM, indirect=True)
def test_explain_a_recorded_rosbag(explained, tmp_path, capsys):
    from ltc_control.data.demo import make_demo_bag

    bag = make_demo_bag(tmp_path / "bag", robot="double_pendulum", n_episodes=2, duration_s=1.5)
    out = tmp_path / "out"
    argv = ["explain", str(explained.model_file), "--rollout", str(bag), "--output", str(out)]
    assert main([*argv, "--depths", "1,3"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rollout"]["source"] == f"replay of {bag}"
    assert summary["rollout"]["episodes"] == 2
    assert [f["depth"] for f in summary["decision_tree"]["fidelity"]] == [1, 3] * 3
    assert "held-out R²" in capsys.readouterr().out


@pytest.mark.parametrize("explained", PENDULUM, indirect=True)
def test_trajectory_file_round_trip_and_replay(explained, tmp_path):
    path = save_trajectories(explained.trajectories, tmp_path / "rollout.npz")
    loaded = load_trajectories(path)
    assert len(loaded) == len(explained.trajectories)
    assert all(a.equals(b) for a, b in zip(loaded, explained.trajectories, strict=True))
    out = tmp_path / "out"
    argv = ["explain", str(explained.model_file), "--rollout", str(path), "--output", str(out)]
    assert main(argv) == 0
    assert (out / "wiring.png").is_file()


def test_bad_rollout_files_raise_typed_errors(tmp_path):
    with pytest.raises(ExplainError, match="does not exist"):
        load_trajectories(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ExplainError, match="not a trajectory file"):
        load_trajectories(tmp_path / "junk.npz")
    with pytest.raises(ExplainError, match=r"ends in \.npz"):
        save_trajectories([object()], tmp_path / "x.bin")


def test_explain_reports_a_missing_model_as_an_error(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "none.npz"), "--output", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("explained", PENDULUM, indirect=True)
def test_export_cli_writes_and_checks_the_graph(explained, tmp_path, capsys):
    target = tmp_path / "policy.onnx"
    assert main(["export", str(explained.model_file), str(target)]) == 0
    assert target.is_file()
    assert "(ok)" in capsys.readouterr().out
    assert main(["export", str(explained.model_file), str(target), "--dtype", "float64"]) == 0
    assert "float64) -> " in capsys.readouterr().out
    assert OnnxPolicy(target).dtype == np.float64
