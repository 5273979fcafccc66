"""bench/control.py --quick: the development mode runs end to end and reports the reach keys."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _quick_bench(tmp_path: Path, robot: str) -> tuple[dict, str]:
    """One short episode of one robot (the bench proper runs for minutes): JSON line, stdout."""
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "control.py"),
            "--quick",
            "--episodes=1",
            "--duration=2",
            "--workers=1",
            f"--robots={robot}",
            "--filter-at-sensor-rate",
            f"--plot={tmp_path / 'control.png'}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1]), run.stdout


def test_quick_bench_runs_the_nominal_condition_and_the_tracking_task_only(tmp_path):
    summary, stdout = _quick_bench(tmp_path, "double_pendulum")
    assert summary["quick"] is True and summary["episodes"] == 1
    assert {"expert_reach5", "cfc19_reach5", "mlp64_reach5"} <= summary.keys()
    # Moving targets from the tracking task (one moving segment per episode), the mixed
    # task's kept beside them.
    for policy in ("expert", "cfc19", "mlp64"):
        assert summary[f"{policy}_moving_caught_rate"] in (0.0, 1.0)
        assert f"{policy}_mixed_moving_rmse_m" in summary
    assert re.search(r"^double_pendulum\s+cfc19\s+tracking", stdout, re.MULTILINE)
    assert summary["pendulum_cfc19_reach5"] == summary["cfc19_reach5"]  # the key names
    assert not any(key.endswith("rate_shift_degradation") for key in summary)
    assert "expert_rmse_m_unfiltered" not in summary
    assert "50Hz" not in stdout and (tmp_path / "control.png").is_file()


def test_quick_bench_runs_the_barriernet_policy_with_learned_and_configured_gains(tmp_path):
    summary, stdout = _quick_bench(tmp_path, "panda")
    for mode in ("barriernet", "fixed_gain"):
        assert 0.0 <= summary[f"{mode}_interventions"] <= 1.0
        assert summary[f"{mode}_correction_mean_nm"] >= 0.0
        assert f"{mode}_reach5" in summary and f"{mode}_violations" in summary
        assert re.search(rf"^panda\s+{mode}\s+nominal", stdout, re.MULTILINE)  # a table row
    assert "barriernet_unfiltered_reach5" not in summary  # --quick runs no unfiltered episodes
