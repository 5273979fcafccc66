"""Per-step latency of the numpy liquid runtime vs ncps 1.0.1 (torch), batch 1, one process.

Network: AutoNCP(19 neurons, 2 motor outputs), 8 inputs; CfC (default mode) and LTC (6 ODE
unfolds). ncps is called one step at a time with its hidden state carried, under
torch.no_grad() and torch.set_num_threads(1) (fair for single-sample control loops). Ours is
`LiquidPolicy.step(x, dt)`: the full node-facing path including input checks and a
non-identity normalization, in float64. Prints a table, then one JSON line: cfc_ncp19_us, ltc_ncp19_us, ncps_cfc_us,
ncps_ltc_us (medians, microseconds), cfc_ncp19_speedup, ltc_ncp19_speedup (median ratios).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
import torch
from ncps.torch import LTC, CfC
from ncps.wirings import AutoNCP

from ltc_control.runtime import Normalization
from ltc_control.training.convert import from_ncps

STEPS = 3000
WARMUP = 200
CHUNK = 100
INPUTS, UNITS, OUTPUTS = 8, 19, 2
DT = 0.02


def _time_interleaved(steppers: list[Callable[[int], object]], xs: np.ndarray) -> list[np.ndarray]:
    """Wall time of each call in microseconds, per stepper. The steppers take turns in chunks
    so that both see the same (shared, noisy) machine load."""
    for step in steppers:
        for x in xs[:WARMUP]:
            step(x)
    times = [np.empty(len(xs) - WARMUP) for _ in steppers]
    for chunk in range(WARMUP, len(xs), CHUNK):
        for step, record in zip(steppers, times, strict=True):
            for i in range(chunk, min(chunk + CHUNK, len(xs))):
                start = time.perf_counter()
                step(xs[i])
                record[i - WARMUP] = time.perf_counter() - start
    return [record * 1e6 for record in times]


def _ncps_stepper(module: torch.nn.Module) -> Callable[[np.ndarray], object]:
    state = {"h": None}
    timespans = torch.full((1, 1, 1), DT)

    def step(x: np.ndarray) -> object:
        with torch.no_grad():
            y, state["h"] = module(torch.from_numpy(x)[None, None], state["h"], timespans)
        return y

    return step


def _compare(name: str, module: torch.nn.Module, xs: np.ndarray) -> dict[str, float]:
    module.eval()
    # A realistic (non-identity) normalization: its cost is part of the step.
    rng = np.random.default_rng(1)
    normalization = Normalization(
        rng.normal(size=INPUTS),
        rng.uniform(0.5, 2.0, INPUTS),
        np.zeros(OUTPUTS),
        np.full(OUTPUTS, 3.0),
    )
    policy = from_ncps(module, dtype="float64", normalization=normalization)
    xs32 = xs.astype(np.float32)
    ncps_step = _ncps_stepper(module)
    ncps_times, ours_times = _time_interleaved(
        [lambda i: ncps_step(xs32[i]), lambda i: policy.step(xs[i], DT)], np.arange(len(xs))
    )
    ratio = np.median(ncps_times) / np.median(ours_times)
    for who, times in (("ncps 1.0.1 (torch)", ncps_times), ("ltc_control.runtime", ours_times)):
        print(f"{name:<16} {who:<22} {np.median(times):>10.1f} {np.percentile(times, 99):>10.1f}")
    return {
        "ncps": float(np.median(ncps_times)),
        "ours": float(np.median(ours_times)),
        "ratio": ratio,
    }


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    xs = np.random.default_rng(0).normal(size=(STEPS + WARMUP, INPUTS))
    print(f"per-step latency, batch 1, {STEPS} steps, AutoNCP({UNITS}, {OUTPUTS}), {INPUTS} inputs")
    print(f"{'network':<16} {'implementation':<22} {'median us':>10} {'p99 us':>10}")
    cfc = _compare("CfC default", CfC(INPUTS, AutoNCP(UNITS, OUTPUTS), batch_first=True), xs)
    ltc = _compare("LTC 6 unfolds", LTC(INPUTS, AutoNCP(UNITS, OUTPUTS), ode_unfolds=6), xs)
    print(f"speedup (median ratio): CfC {cfc['ratio']:.1f}x, LTC {ltc['ratio']:.1f}x")
    print(
        json.dumps(
            {
                "cfc_ncp19_us": round(cfc["ours"], 2),
                "ltc_ncp19_us": round(ltc["ours"], 2),
                "ncps_cfc_us": round(cfc["ncps"], 2),
                "ncps_ltc_us": round(ltc["ncps"], 2),
                "cfc_ncp19_speedup": round(cfc["ratio"], 2),
                "ltc_ncp19_speedup": round(ltc["ratio"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
