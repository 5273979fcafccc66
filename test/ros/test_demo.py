"""The main job, shortened: the demo runs the shipped policy over real topics and reports."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ltc_control.cli.main import main
from ltc_control.resources import shipped_policy

pytestmark = pytest.mark.ros


@pytest.mark.parametrize("robot", ["panda", "double_pendulum"])
def test_demo_runs_and_writes_its_report(robot: str, tmp_path: Path, capfd) -> None:
    assert shipped_policy(robot).is_file(), "a trained policy ships for every robot"
    assert main(["demo", "--robot", robot, "--duration", "1.5", "--output", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "demo.json").read_text())
    assert report["sim_time_s"] >= 1.5 and report["model_id"].startswith(robot)
    assert report["filter_steps"] >= 140  # SafetyStatus every 10th 1 ms cycle (config)
    assert report["violations"] == 0
    # Start-up is a wait for the policy's first command (braking, counted apart), not a fallback.
    assert report["waiting"] >= 1 and report["fallbacks"] == 0
    assert report["max_torque_ratio"] <= 1.0
    for key in ("tracking_rmse_m", "expert_tracking_rmse_m", "max_contact_force_n"):
        assert math.isfinite(report[key])
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    assert "limit violations" in capfd.readouterr().out
