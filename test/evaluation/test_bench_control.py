"""bench/control.py --quick: the development mode runs end to end and reports the reach keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_bench_runs_the_nominal_condition_only(tmp_path):
    # A smoke test: one short episode of one robot (the bench proper runs for minutes).
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "control.py"),
            "--quick",
            "--episodes=1",
            "--duration=2",
            "--workers=1",
            "--robots=double_pendulum",
            "--filter-at-sensor-rate",
            f"--plot={tmp_path / 'control.png'}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["quick"] is True and summary["episodes"] == 1
    assert {"expert_reach5", "cfc19_reach5", "mlp64_reach5"} <= summary.keys()
    assert not any(key.endswith("rate_shift_degradation") for key in summary)
    assert "expert_rmse_m_unfiltered" not in summary
    assert "50Hz" not in run.stdout and (tmp_path / "control.png").is_file()
