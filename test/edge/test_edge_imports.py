"""The optional onnxruntime path a robot may use imports neither torch, onnx (the graph builder),
cvxpy nor rclpy. (The numpy path, load_policy + step, is checked by
test/runtime/test_isolation.py; bench/edge.py repeats that check on the shipped policies.)"""

from __future__ import annotations

import json
import subprocess
import sys

from edge_cases import generated_policy

from ltc_control.edge.onnx_export import export_onnx

CHILD = """
import json, sys
import numpy as np
import ltc_control.edge
from ltc_control.edge.onnx_runner import OnnxPolicy
policy = OnnxPolicy(sys.argv[1])
outputs = [policy.step(np.full(7, 0.1), 0.02).tolist() for _ in range(3)]
heavy = sorted(m for m in ("torch", "onnx", "cvxpy", "rclpy", "sklearn") if m in sys.modules)
print(json.dumps({"heavy": heavy, "outputs": outputs}))
"""


def test_onnx_runner_path_imports_no_torch_onnx_cvxpy_or_rclpy(tmp_path):
    policy = generated_policy("ltc", tmp_path / "p.npz")
    path = export_onnx(policy, tmp_path / "p.onnx")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    policy.reset()
    expected = [policy.step([0.1] * 7, 0.02).tolist() for _ in range(3)]
    assert (
        max(
            abs(a - b)
            for r, e in zip(report["outputs"], expected, strict=True)
            for a, b in zip(r, e, strict=True)
        )
        < 1e-9
    )
