"""Safety filter speed: fast path (lean model + compiled assembly + DAQP) vs the cvxpy
specification, the numpy reference assembly, the QP solvers on the same problems, and the
BarrierNet layer vs qpth. Runs in < 60 s.

Prints a table, then one JSON line (last line) with p50_us_7dof, p99_us_7dof,
p50_us_7dof_learned_gains (per-step BarrierNet gains), cvxpy_p50_us_7dof,
speedup_7dof, max_diff_vs_cvxpy (N·m), p50_us_2dof, and the solver/layer figures.
Machines are shared and noisy: compare the ratios measured in the same run.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import proxsuite
import quadprog
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ltc_control.evaluation.safety_episodes import (
    AggressiveController,
    EvaluationConfig,
    sample_safe_start,
)
from ltc_control.robots import load_robot_description
from ltc_control.safety import SafetyFilter, load_safety_config
from ltc_control.safety.assembly import NumpyAssembly
from ltc_control.safety.layer import BarrierNetLayer
from ltc_control.safety.qp import INFINITY, DaqpSolver
from ltc_control.safety.spec import CvxpySpecification
from ltc_control.sim import ArmSimulator

FAST_STEPS = 2000  # filter steps along closed-loop trajectories
SPEC_STATES = 150  # states solved by both the fast path and cvxpy


def closed_loop_states(robot, safety_filter, steps: int, seed: int = 0):
    """(q, v, u_nominal) along filtered closed-loop episodes (1 s each) of the evaluation."""
    config = EvaluationConfig()
    controller = AggressiveController(robot, config, safety_filter.config.force_max)
    sim = ArmSimulator(robot)
    states = []
    episode = 0
    while len(states) < steps:
        rng = np.random.default_rng([seed, episode])
        q0, v0 = sample_safe_start(safety_filter, rng)
        sim.reset(q0, v0)
        targets = (*controller.sample_targets(rng, q0), bool(rng.random() < 0.5))
        for _ in range(min(1000, steps - len(states))):
            state = sim.true_state()
            u = controller.torque(state.q, state.v, *targets)
            states.append((state.q, state.v, u))
            sim.apply(safety_filter.filter(state.q, state.v, u).command)
            sim.advance(0.001)
        episode += 1
    return states


def time_filter(safety_filter, states, cpu_times: list | None = None, gains=None):
    """Wall time per step (µs) and commands; CPU time of this thread per step into cpu_times
    (on a shared machine, wall-clock p99 measures the other tenants' load as much as ours).
    `gains`: per-step gains, one vector per state (BarrierNet mode)."""
    safety_filter.solver.reset()
    times, commands = [], []
    gains = gains if gains is not None else [None] * len(states)
    for (q, v, u), step_gains in zip(states, gains, strict=True):
        cpu_start, start = time.thread_time(), time.perf_counter()
        result = safety_filter.filter(q, v, u, step_gains)
        times.append(time.perf_counter() - start)
        if cpu_times is not None:
            cpu_times.append(time.thread_time() - cpu_start)
        commands.append(result.command)
    return np.array(times) * 1e6, commands


def time_spec(spec, states):
    times, commands = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for q, v, u in states:
            start = time.perf_counter()
            solution = spec.solve(q, v, u)
            times.append(time.perf_counter() - start)
            commands.append(solution.command)
    return np.array(times) * 1e6, commands


def robot_figures(name: str) -> dict:
    robot = load_robot_description(name)
    safety_filter = SafetyFilter(robot, load_safety_config(name))
    states = closed_loop_states(robot, safety_filter, FAST_STEPS)
    safety_filter.solver.warm_start = True  # the shipped default (config warm_start)
    cpu = []
    default, _ = time_filter(safety_filter, states, cpu)
    cpu = np.array(cpu) * 1e6
    safety_filter.solver.warm_start = False
    cold, _ = time_filter(safety_filter, states)
    safety_filter.solver.warm_start = True
    reference_path = SafetyFilter(robot, safety_filter.config, compiled=False)
    numpy_path, _ = time_filter(reference_path, states)
    # BarrierNet mode: gains drawn in (0.5, 2) x configured (training's range), new every step.
    rng = np.random.default_rng(0)
    scales = rng.uniform(0.5, 2.0, (len(states), len(safety_filter.gain_names)))
    learned, _ = time_filter(safety_filter, states, gains=scales * safety_filter.configured_gains)
    subset = states[:: max(1, len(states) // SPEC_STATES)][:SPEC_STATES]
    fast_times, fast_commands = time_filter(safety_filter, subset)
    spec_times, spec_commands = time_spec(CvxpySpecification(safety_filter), subset)
    diffs = [
        np.abs(a - b)
        for a, b in zip(fast_commands, spec_commands, strict=True)
        if np.all(np.isfinite(b))
    ]
    max_diff = float(np.max(diffs)) if diffs else float("nan")
    max_diff_scaled = (
        float(np.max([d / robot.limits.effort for d in diffs])) if diffs else float("nan")
    )
    return {
        "p50_us": float(np.median(default)),
        "p99_us": float(np.percentile(default, 99)),
        "cpu_p50_us": float(np.median(cpu)),
        "cpu_p99_us": float(np.percentile(cpu, 99)),
        "p50_us_cold": float(np.median(cold)),
        "p50_us_numpy": float(np.median(numpy_path)),
        "p50_us_learned_gains": float(np.median(learned)),
        "p99_us_learned_gains": float(np.percentile(learned, 99)),
        "p99_us_numpy": float(np.percentile(numpy_path, 99)),
        "p99_us_cold": float(np.percentile(cold, 99)),
        "same_states_p50_us": float(np.median(fast_times)),
        "cvxpy_p50_us": float(np.median(spec_times)),
        "cvxpy_p99_us": float(np.percentile(spec_times, 99)),
        "max_diff_vs_cvxpy": max_diff,
        "max_diff_vs_cvxpy_scaled": max_diff_scaled,
        "compared": len(diffs),
        "_filter": safety_filter,
        "_states": states,
    }


def solver_figures(safety_filter, states, count: int = 300) -> dict:
    """Solve-only time of the same filter QPs with DAQP (cold/warm), quadprog and proxsuite."""
    f = safety_filter
    assembly = NumpyAssembly(f.constraints, f.layout, f.torque_reference, f.qp_bounds)
    qps = []
    for q, v, u in states[:count]:
        assembly.assemble(f.model.terms(q, v), q, v, u)
        qps.append(assembly.qp)  # a new QuadraticProgram per state on the numpy path
    results = {}
    for label, solve in (
        ("daqp_cold", _daqp(False)),
        ("daqp_warm", _daqp(True)),
        ("quadprog", _quadprog),
        ("proxsuite_warm", _proxsuite()),
    ):
        times, xs = [], []
        for qp in qps:
            start = time.perf_counter()
            xs.append(solve(qp))
            times.append(time.perf_counter() - start)
        results[label] = (float(np.median(times) * 1e6), float(np.percentile(times, 99) * 1e6), xs)
    reference = results["daqp_cold"][2]
    return {
        label: {
            "p50_us": p50,
            "p99_us": p99,
            "max_diff_vs_daqp": float(
                max(np.max(np.abs(a - b)) for a, b in zip(xs, reference, strict=True))
            ),
        }
        for label, (p50, p99, xs) in results.items()
    }


def _daqp(warm: bool):
    solver = DaqpSolver(warm_start=warm)
    return lambda qp: solver.solve(qp).x


def _quadprog(qp):
    finite = qp.upper < INFINITY
    eye = np.eye(len(qp.f))
    C = np.vstack((-qp.A, -eye[finite], eye)).T
    b = np.concatenate((-qp.b, -qp.upper[finite], qp.lower))
    return quadprog.solve_qp(qp.H, -qp.f, C, b)[0]


def _proxsuite():
    state = {}

    def solve(qp):
        n, m = qp.A.shape[1], qp.A.shape[0]
        solver = state.get("qp")
        if solver is None:
            solver = proxsuite.proxqp.dense.QP(n, 0, m, True)
            solver.settings.eps_abs = 1e-9
            solver.settings.initial_guess = (
                proxsuite.proxqp.InitialGuess.WARM_START_WITH_PREVIOUS_RESULT
            )
            lower = np.full(m, -INFINITY)
            solver.init(
                qp.H, qp.f, None, None, qp.A, lower, qp.b, qp.lower, np.minimum(qp.upper, 1e20)
            )
            state["qp"] = solver
        else:
            solver.update(g=qp.f, C=qp.A, u=qp.b)
        solver.solve()
        return solver.results.x.copy()

    return solve


def layer_figures(safety_filter, states, batch: int = 64, repeats: int = 3) -> dict:
    from qpth.qp import QPFunction

    layer = BarrierNetLayer(safety_filter)
    chosen = states[:: max(1, len(states) // batch)][:batch]
    q = torch.tensor(np.stack([s[0] for s in chosen]))
    v = torch.tensor(np.stack([s[1] for s in chosen]))
    u0 = torch.tensor(np.stack([s[2] for s in chosen]))
    gains = layer.default_gains.expand(batch, -1).clone()

    def ours():
        u = u0.clone().requires_grad_(True)
        g = gains.clone().requires_grad_(True)
        out = layer(q, v, u, g)
        out.sum().backward()
        return out.detach()

    def with_qpth():
        u = u0.clone().requires_grad_(True)
        g = gains.clone().requires_grad_(True)
        H, f, A, b = layer.quadratic_program(layer.rows_of(q, v), u, g)
        x = QPFunction(verbose=-1, eps=1e-12, maxIter=50)(
            H, f, A, b, torch.empty(0), torch.empty(0)
        )
        out = x[:, : safety_filter.robot.dof] * layer._scale
        out.sum().backward()
        return out.detach()

    figures = {}
    outputs = {}
    for label, run in (("ours", ours), ("qpth", with_qpth)):
        run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            outputs[label] = run()
            times.append(time.perf_counter() - start)
        figures[f"layer_{label}_ms_b{batch}"] = float(np.median(times) * 1e3)
    figures["layer_max_diff_vs_qpth"] = float((outputs["ours"] - outputs["qpth"]).abs().max())
    return figures


def main() -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    panda = robot_figures("panda")
    pendulum = robot_figures("double_pendulum")
    solvers = solver_figures(panda["_filter"], panda["_states"])
    layer = layer_figures(panda["_filter"], panda["_states"])
    print(f"{'per filter step (µs)':<38}{'p50':>10}{'p99':>10}")
    for label, figures in (("panda", panda), ("double_pendulum", pendulum)):
        print(
            f"{label + ' fast path (wall clock)':<38}{figures['p50_us']:>10.1f}{figures['p99_us']:>10.1f}"
        )
        print(
            f"{label + ' fast path, DAQP cold start':<38}{figures['p50_us_cold']:>10.1f}{figures['p99_us_cold']:>10.1f}"
        )
        print(
            f"{label + ' per-step gains (BarrierNet)':<38}{figures['p50_us_learned_gains']:>10.1f}{figures['p99_us_learned_gains']:>10.1f}"
        )
        print(
            f"{label + ' numpy reference assembly':<38}{figures['p50_us_numpy']:>10.1f}{figures['p99_us_numpy']:>10.1f}"
        )
        print(
            f"{label + ' cvxpy specification':<38}{figures['cvxpy_p50_us']:>10.1f}{figures['cvxpy_p99_us']:>10.1f}"
        )
        print(
            f"{label + ' speedup (same states)':<38}{figures['cvxpy_p50_us'] / figures['same_states_p50_us']:>10.1f}"
            f"   max |u - u_cvxpy| = {figures['max_diff_vs_cvxpy']:.2e} N·m"
            f" ({figures['max_diff_vs_cvxpy_scaled']:.1e} of effort) over {figures['compared']}"
        )
    print(f"\n{'panda QP solve only (µs)':<38}{'p50':>10}{'p99':>10}{'max|dx| vs daqp':>18}")
    for label, figures in solvers.items():
        print(
            f"{label:<38}{figures['p50_us']:>10.1f}{figures['p99_us']:>10.1f}{figures['max_diff_vs_daqp']:>18.1e}"
        )
    print(
        f"\nBarrierNet layer, panda, batch 64, forward+backward: ours {layer['layer_ours_ms_b64']:.1f} ms,"
        f" qpth {layer['layer_qpth_ms_b64']:.1f} ms, max diff {layer['layer_max_diff_vs_qpth']:.1e} N·m"
    )
    print(f"total bench time {time.perf_counter() - start:.1f} s")
    summary = {
        "p50_us_7dof": round(panda["p50_us"], 1),
        "p99_us_7dof": round(panda["p99_us"], 1),
        "p50_us_7dof_cold_start": round(panda["p50_us_cold"], 1),
        "p50_us_7dof_numpy_assembly": round(panda["p50_us_numpy"], 1),
        "p50_us_7dof_learned_gains": round(panda["p50_us_learned_gains"], 1),
        "p99_us_7dof_learned_gains": round(panda["p99_us_learned_gains"], 1),
        "cpu_p50_us_7dof": round(panda["cpu_p50_us"], 1),
        "cpu_p99_us_7dof": round(panda["cpu_p99_us"], 1),
        "cvxpy_p50_us_7dof": round(panda["cvxpy_p50_us"], 1),
        "speedup_7dof": round(panda["cvxpy_p50_us"] / panda["same_states_p50_us"], 1),
        "max_diff_vs_cvxpy": panda["max_diff_vs_cvxpy"],
        "max_diff_vs_cvxpy_2dof": pendulum["max_diff_vs_cvxpy"],
        "p50_us_2dof": round(pendulum["p50_us"], 1),
        "p99_us_2dof": round(pendulum["p99_us"], 1),
        "cvxpy_p50_us_2dof": round(pendulum["cvxpy_p50_us"], 1),
        "solver_p50_us": {k: round(v["p50_us"], 1) for k, v in solvers.items()},
        **{k: round(v, 3) if k.endswith("_b64") else v for k, v in layer.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
