"""The edge figures: what running a shipped policy costs a robot's computer, each in a fresh process.

- import_ms: `import numpy` + `import ltc_control.runtime` in a fresh interpreter (median of
  IMPORT_RUNS processes; the numpy share is printed beside it). Target < 150 ms.
- rss_mb: peak resident memory (VmHWM) of a process that imports the runtime, loads the
  policy and steps it STEPS times (a python + numpy process is measured beside it). Target < 60 MB.
- step_us: median wall time of `LiquidPolicy.step(x, dt)` over those STEPS steps (p99 beside it),
  and, as the side-by-side reference, the same step through the exported ONNX graph in
  onnxruntime (one thread).
- onnx_max_diff: largest model-space difference between the ONNX graph (onnxruntime) and the numpy
  runtime over 100 steps of random inputs with irregular dt, both in float64 (the maths; target
  1e-5); onnx_deployed_diff: the same in the model's own dtype (float32: both sides round
  differently, ~1e-5, bound 1e-4). See ltc_control.edge.onnx_export.ExportCheck.
- heavy modules: any of torch, cvxpy, rclpy, scipy, sklearn, matplotlib, onnx, onnxruntime,
  mujoco, pinocchio found in sys.modules after loading and stepping (must be none).

Policies: the shipped models/<robot>_<cell>19.npz present; if panda_cfc19 is absent, an untrained
float32 CfC/AutoNCP(19) with the same I/O stands in (labelled "generated"). The headline JSON
keys are those of panda_cfc19. Prints a table, then one JSON line (last).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ltc_control.resources import model_path

IMPORT_RUNS = 7
STEPS = 10_000
HEADLINE = "panda_cfc19"
SHIPPED = ("panda_cfc19", "double_pendulum_cfc19", "panda_ltc19", "double_pendulum_ltc19")
HEAVY = (
    "torch",
    "cvxpy",
    "rclpy",
    "scipy",
    "sklearn",
    "matplotlib",
    "onnx",
    "onnxruntime",
    "mujoco",
    "pinocchio",
)

IMPORT_CHILD = """
import json, sys, time
start = time.perf_counter()
import numpy
middle = time.perf_counter()
import ltc_control.runtime
end = time.perf_counter()
print(json.dumps({"numpy_ms": 1e3 * (middle - start), "total_ms": 1e3 * (end - start)}))
"""

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
PEAK_RSS = """
def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

STEP_CHILD = (
    PEAK_RSS
    + """
import json, sys, time
before = set(sys.modules)
import numpy as np
from ltc_control.runtime import load_policy
policy = load_policy(sys.argv[1])
steps = int(sys.argv[2])
norm = policy.normalization
xs = norm.input_mean + norm.input_std * np.random.default_rng(0).normal(size=(steps, len(norm.input_mean)))
dts = np.random.default_rng(1).uniform(0.008, 0.012, steps)
times = np.empty(steps)
for i in range(steps):
    start = time.perf_counter()
    policy.step(xs[i], float(dts[i]))
    times[i] = time.perf_counter() - start
added = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print(json.dumps({
    "rss_mb": peak_rss_mb(),
    "step_us": 1e6 * float(np.median(times)),
    "step_p99_us": 1e6 * float(np.percentile(times, 99)),
    "modules": added,
}))
"""
)

BASELINE_CHILD = (
    PEAK_RSS
    + """
import json
import numpy
print(json.dumps({"rss_mb": peak_rss_mb()}))
"""
)

ONNX_CHILD = """
import json, sys, time
import numpy as np
from ltc_control.edge.onnx_export import check_export, export_onnx
from ltc_control.edge.onnx_runner import OnnxPolicy
from ltc_control.runtime import load_policy
policy = load_policy(sys.argv[1])
check = check_export(policy)
runner = OnnxPolicy(export_onnx(policy, sys.argv[2]))
x = policy.normalization.input_mean
times = []
for _ in range(2000):
    start = time.perf_counter()
    runner.step(x, 0.01)
    times.append(time.perf_counter() - start)
print(json.dumps({"onnx_max_diff": check.exact, "onnx_deployed_diff": check.deployed,
                  "onnx_step_us": 1e6 * float(np.median(times[200:]))}))
"""


def _child(code: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _policies(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (model file, "shipped" | "generated")."""
    found = {
        name: (model_path(f"{name}.npz"), "shipped")
        for name in SHIPPED
        if model_path(f"{name}.npz").is_file()
    }
    if HEADLINE not in found:
        found = {HEADLINE: (_generated_panda(folder / "panda_cfc19.npz"), "generated"), **found}
    return found


GENERATE_CHILD = """
import sys
import torch
from ncps.torch import CfC
from ncps.wirings import AutoNCP
from ltc_control.runtime.signals import policy_input_names, policy_output_names
from ltc_control.robots import load_robot_description
from ltc_control.training.convert import from_ncps
torch.manual_seed(0)
joints = load_robot_description("panda").joint_names
inputs = policy_input_names(joints)
module = CfC(len(inputs), AutoNCP(19, len(joints), seed=0), batch_first=True)
from_ncps(module, input_names=inputs, output_names=policy_output_names(joints),
          model_id="untrained-panda", path=sys.argv[1])
print("{}")
"""


def _generated_panda(path: Path) -> Path:
    """Untrained float32 CfC/AutoNCP(19) with panda's I/O, made in a child (torch stays out of
    this process)."""
    _child(GENERATE_CHILD, str(path))
    return path


def main() -> None:
    started = time.monotonic()
    imports = [_child(IMPORT_CHILD) for _ in range(IMPORT_RUNS)]
    import_ms = float(np.median([r["total_ms"] for r in imports]))
    numpy_ms = float(np.median([r["numpy_ms"] for r in imports]))
    baseline_rss = _child(BASELINE_CHILD)["rss_mb"]
    print(f"import numpy + ltc_control.runtime, median of {IMPORT_RUNS} fresh processes:")
    print(
        f"  {import_ms:.1f} ms (numpy {numpy_ms:.1f} ms, runtime package "
        f"{import_ms - numpy_ms:.1f} ms); target < 150 ms"
    )
    print(f"python + numpy alone: peak RSS {baseline_rss:.1f} MB")
    load = os.getloadavg()[0]
    print(
        f"machine load average (1 min): {load:.1f} on {os.cpu_count()} CPUs (imports slow down with it)"
    )
    print()
    header = f"{'policy':<24} {'source':<10} {'RSS MB':>7} {'step us':>8} {'p99 us':>8}"
    print(f"{header} {'onnx us':>8} {'diff f64':>9} {'diff own':>9}  heavy modules")
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (path, source) in _policies(Path(folder)).items():
            stepped = _child(STEP_CHILD, str(path), str(STEPS))
            onnx = _child(ONNX_CHILD, str(path), str(Path(folder) / f"{name}.onnx"))
            heavy = [m for m in stepped["modules"] if m in HEAVY]
            figures[name] = {**stepped, **onnx, "heavy": heavy, "source": source}
            print(
                f"{name:<24} {source:<10} {stepped['rss_mb']:>7.1f} {stepped['step_us']:>8.1f} "
                f"{stepped['step_p99_us']:>8.1f} {onnx['onnx_step_us']:>8.1f} "
                f"{onnx['onnx_max_diff']:>9.1e} {onnx['onnx_deployed_diff']:>9.1e}  "
                f"{', '.join(heavy) or 'none'}"
            )
    headline = figures[HEADLINE]
    print()
    print(
        f"{HEADLINE}: numpy step / onnxruntime step = "
        f"{headline['step_us'] / headline['onnx_step_us']:.2f}; "
        f"RSS over python+numpy = {headline['rss_mb'] - baseline_rss:.1f} MB; "
        f"bench took {time.monotonic() - started:.1f} s"
    )
    print(
        json.dumps(
            {
                "import_ms": round(import_ms, 1),
                "import_numpy_ms": round(numpy_ms, 1),
                "rss_mb": round(headline["rss_mb"], 1),
                "rss_numpy_baseline_mb": round(baseline_rss, 1),
                "step_us": round(headline["step_us"], 2),
                "step_p99_us": round(headline["step_p99_us"], 2),
                "onnx_step_us": round(headline["onnx_step_us"], 2),
                "onnx_max_diff": float(max(f["onnx_max_diff"] for f in figures.values())),
                "onnx_deployed_diff": float(max(f["onnx_deployed_diff"] for f in figures.values())),
                "heavy_modules": sorted({m for f in figures.values() for m in f["heavy"]}),
                "model": HEADLINE,
                "model_source": headline["source"],
                "models": sorted(figures),
                "load_avg_1min": round(load, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
