"""The runtime is numpy-only: importing it, loading a model file and stepping it pull in
neither torch, cvxpy nor rclpy (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys

from ncps_reference import make_ncps_module, make_ncps_wiring

from ltc_control.training.convert import from_ncps

CHILD = """
import json, sys
import numpy as np
import ltc_control.runtime as runtime
policy = runtime.load_policy(sys.argv[1])
outputs = [policy.step(np.full(5, 0.1), 0.02).tolist() for _ in range(3)]
print(json.dumps({"heavy": sorted(m for m in ("torch", "cvxpy", "rclpy") if m in sys.modules),
                  "outputs": outputs}))
"""


def test_loading_and_stepping_imports_no_torch_cvxpy_or_rclpy(tmp_path):
    path = tmp_path / "policy.npz"
    for kind in ("ltc", "cfc"):
        policy = from_ncps(make_ncps_module(kind, make_ncps_wiring("auto_ncp")), path=path)
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
        )
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["heavy"] == []
        policy.reset()
        assert report["outputs"] == [policy.step([0.1] * 5, 0.02).tolist() for _ in range(3)]
