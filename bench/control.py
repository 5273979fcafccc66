"""Closed-loop control benchmark: shipped policies vs the expert, nominal and under sensor-rate shift.

For each robot: the expert, the 19-neuron CfC and LTC (numpy runtime), the LSTM (19 units) and
MLP baselines (numpy forward), each driven through PolicyController with every command through
the SafetyFilter (config/<robot>/safety.yaml) as the ROS graph runs it: at the 1 kHz torque loop,
on the policy's nominal command held between sensor samples, with fresh measurements every 1 ms
(`--filter-at-sensor-rate`: once per sensor sample instead, the earlier, cheaper mode), on the
same seeded randomized episodes (targets incl. unreachable ones, initial
states, ±10 % link masses, sensor noise). Policies were trained at 100 Hz; liquid and LSTM
policies are also run at 50 Hz, 200 Hz and 100 Hz with ±30 % timing jitter.

Moving targets get their own task (EvaluationConfig task="tracking", 100 episodes per policy,
nominal rate, filter on): a reachable hold of 1 s, then a target moving away from that point
(circle or line, 2-6 s period); the expert is told the target's velocity (privileged
feedforward), the policies see only the stream of positions and must infer it (what memory is
for). Its `<policy>_moving_rmse_m` / `_moving_caught_rate` / `_moving_caught_rmse_m` are the
top-level keys; the mixed task's (~16 moving segments per 100 episodes, mostly approach) stay
as `<policy>_mixed_moving_*`.

Reach metrics first (evaluation.reach, pooled over every episode's segments): per policy
`<policy>_reach5` / `_reach2` (fraction of reachable holds ending within 5 / 2 cm),
`_final_error_median_m`, `_time_to_reach_median_s`, `_moving_rmse_m` (tracking RMSE on moving
targets after 0.5 s), `_moving_caught_rate` (moving targets the arm came within 5 cm of) and
`_moving_caught_rmse_m` (tracking RMSE from that catch on: the lag, without the approach),
`_unreachable_closest_median_m` (closest approach to targets below the table or out of reach),
`_parameters` (trainable parameters stored in the model file) and `_synapses`
(synapses of its wiring, sensory included; none for LSTM/MLP). Then, secondary
(evaluation.closed_loop): tracking RMSE (m) on reachable targets, its ratio to the expert's
on the same episodes (filtered policy vs filtered expert; also both unfiltered at 100 Hz), success rate, effort (N·m RMS over gravity), filter interventions,
limit violations (true state). rate_shift_degradation = mean over the three shifted conditions
of rmse(condition) / rmse(100 Hz) - 1 (0 = unaffected).

Runs for a while (the torque loop solves 10x the QPs of sensor-rate filtering at 100 Hz; the
README states the measured time); prints the elapsed time. Last stdout line: one JSON object;
top-level keys are the Panda's (the headline robot), the pendulum's prefixed `pendulum_`, plus
violations_filtered and episodes summed over everything; per-robot values under "robots".

BarrierNet (where models/<robot>_cfc19_barriernet.npz exists): the same policy with its learned
class-K gains (`barriernet_*`), with the filter's configured gains (`fixed_gain_*`) and without
the filter (`barriernet_unfiltered_*`): reach5/reach2/final error, `_interventions` (fraction of
filter calls that changed the command), `_correction_mean_nm` (conservativeness: mean
|safe - nominal| in N·m over filter calls) and violations.

    .venv/bin/python bench/control.py [--episodes 100] [--duration 3] [--workers 2]
                                      [--filter-at-sensor-rate] [--quick]

`--quick` (development) runs 3 episodes of the nominal condition and the tracking task only,
filtered (no rate shift, no unfiltered runs); its figures are far too noisy to quote.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROBOTS = ("panda", "double_pendulum")
POLICIES = ("cfc19", "ltc19", "lstm19", "mlp64")
SHIFTED_POLICIES = ("cfc19", "ltc19", "lstm19")
# The BarrierNet CfC-19 (models/<robot>_cfc19_barriernet.npz) run three ways: with its learned
# class-K gains, with the filter's configured gains, and without the filter.
BARRIERNET_MODEL = "cfc19_barriernet"
GAIN_MODES = {"barriernet": True, "fixed_gain": False}  # label -> learned gains used
BARRIERNET_KEYS = ("reach5", "reach2", "final_error_median_m", "correction_mean_nm", "violations")
QUICK_EPISODES = 3
# The moving-target task (EvaluationConfig task="tracking": a hold, then a target moving away
# from it; nominal sensor rate): its moving-target keys replace the mixed task's at the top level
# (those stay as <policy>_mixed_<key>), 100 moving segments against the mixed task's ~16.
TRACKING = "tracking"
TRACKING_KEYS = ("moving_rmse_m", "moving_caught_rate", "moving_caught_rmse_m")


def _job(args: tuple[str, str, str, int, float, bool, bool]) -> tuple[str, str, str, dict, float]:
    robot_name, policy_name, condition_name, episodes, duration, use_filter, at_sensor_rate = args
    from ltc_control.evaluation import NOMINAL, RATE_SHIFT, EvaluationConfig, Evaluator, summarize
    from ltc_control.resources import shipped_policy
    from ltc_control.robots import load_robot_description
    from ltc_control.training.baselines import load_trained_policy

    tracking = condition_name == TRACKING  # the moving-target task at the nominal rate
    condition = {c.name: c for c in (NOMINAL, *RATE_SHIFT)}[
        "nominal" if tracking else condition_name
    ]
    robot = load_robot_description(robot_name)
    evaluator = Evaluator(
        robot,
        EvaluationConfig(
            episodes=episodes,
            duration_s=duration,
            use_filter=use_filter,
            filter_at_sensor_rate=at_sensor_rate,
            task="tracking" if tracking else "mixed",
        ),
    )
    start = time.perf_counter()
    if policy_name == "expert":
        results = evaluator.evaluate(lambda c: evaluator.expert_controller(), condition)
    else:
        learned = GAIN_MODES.get(policy_name, True)
        model = BARRIERNET_MODEL if policy_name in GAIN_MODES else policy_name
        policy = load_trained_policy(shipped_policy(robot_name, model))
        results = evaluator.evaluate(
            lambda c: evaluator.learned_controller(policy, c, learned_gains=learned), condition
        )
    return robot_name, policy_name, condition_name, summarize(results), time.perf_counter() - start


def _jobs(
    robots, episodes: int, duration: float, unfiltered: bool, at_sensor_rate: bool, shifted: bool
) -> list[tuple]:
    """Arguments of `_job`: (robot, policy, condition, filtered) runs, the shared settings after."""
    from ltc_control.evaluation import RATE_SHIFT
    from ltc_control.resources import shipped_policy

    runs = []
    for robot in robots:
        runs += [(robot, "expert", "nominal", True), (robot, "expert", TRACKING, True)]
        for policy in POLICIES:
            if not shipped_policy(robot, policy).is_file():
                print(f"[skip] {robot}: no models/{robot}_{policy}.npz")
                continue
            runs += [(robot, policy, "nominal", True), (robot, policy, TRACKING, True)]
            if shifted and policy in SHIFTED_POLICIES:
                runs += [(robot, policy, c.name, True) for c in RATE_SHIFT]
        if shipped_policy(robot, BARRIERNET_MODEL).is_file():
            runs += [(robot, label, "nominal", True) for label in GAIN_MODES]
            if unfiltered:
                runs.append((robot, "barriernet", "nominal", False))
        if unfiltered:
            runs.append((robot, "expert", "nominal", False))
            runs += [
                (robot, policy, "nominal", False)
                for policy in SHIFTED_POLICIES
                if shipped_policy(robot, policy).is_file()
            ]
    return [(r, p, c, episodes, duration, filtered, at_sensor_rate) for r, p, c, filtered in runs]


REACH_KEYS = (
    "reach5",
    "reach2",
    "final_error_median_m",
    "time_to_reach_median_s",
    "moving_rmse_m",
    "moving_caught_rate",
    "moving_caught_rmse_m",
    "unreachable_closest_median_m",
)


def _robot_metrics(
    rows: dict[tuple[str, str], dict], unfiltered: dict[str, dict], sizes: dict[str, int | None]
) -> dict:
    expert = rows[("expert", "nominal")]["tracking_rmse_mean"]
    metrics = {f"expert_{key}": rows[("expert", "nominal")][key] for key in REACH_KEYS}
    metrics |= sizes
    metrics["expert_rmse_m"] = expert
    if "expert" in unfiltered:
        bare = unfiltered["expert"]["tracking_rmse_mean"]
        metrics["expert_rmse_m_unfiltered"] = bare
        for policy, summary in unfiltered.items():
            if policy != "expert":
                key = policy.replace("lstm19", "lstm")
                metrics[f"{key}_rmse_ratio_vs_expert_unfiltered"] = (
                    summary["tracking_rmse_mean"] / bare
                )
        metrics["violations_unfiltered"] = int(sum(v["violations"] for v in unfiltered.values()))
    metrics |= _barriernet_metrics(rows, unfiltered)
    for policy in POLICIES:
        nominal = rows.get((policy, "nominal"))
        if nominal is None:
            continue
        metrics |= {f"{policy}_{key}": nominal[key] for key in REACH_KEYS}
        key = policy.replace("lstm19", "lstm").replace("mlp64", "mlp")
        metrics[f"{key}_rmse_ratio_vs_expert"] = nominal["tracking_rmse_mean"] / expert
        metrics[f"{key}_success_rate"] = nominal["success_rate"]
        shifted = [
            v for (p, c), v in rows.items() if p == policy and c not in ("nominal", TRACKING)
        ]
        if shifted:
            ratios = [v["tracking_rmse_mean"] / nominal["tracking_rmse_mean"] for v in shifted]
            metrics[f"{key}_rate_shift_degradation"] = float(np.mean(ratios) - 1.0)
    return metrics | _tracking_metrics(rows)


def _tracking_metrics(rows: dict[tuple[str, str], dict]) -> dict:
    """`<policy>_moving_*` from the tracking task where it ran; the mixed task's moving keys
    are kept as `<policy>_mixed_moving_*`."""
    replaced = {}
    for policy in ("expert", *POLICIES):
        tracking, nominal = rows.get((policy, TRACKING)), rows.get((policy, "nominal"))
        if tracking is None or nominal is None:
            continue
        for key in TRACKING_KEYS:
            replaced[f"{policy}_mixed_{key}"] = nominal[key]
            replaced[f"{policy}_{key}"] = tracking[key]
    return replaced


def _barriernet_metrics(rows: dict[tuple[str, str], dict], unfiltered: dict[str, dict]) -> dict:
    """`barriernet_*` (learned gains), `fixed_gain_*` (configured gains) and
    `barriernet_unfiltered_*` (no filter) of the BarrierNet CfC-19, where it ran."""
    runs = {label: rows.get((label, "nominal")) for label in GAIN_MODES}
    runs["barriernet_unfiltered"] = unfiltered.get("barriernet")
    metrics = {}
    for label, summary in runs.items():
        if summary is None:
            continue
        metrics |= {f"{label}_{key}": summary[key] for key in BARRIERNET_KEYS}
        if label in GAIN_MODES:
            metrics[f"{label}_interventions"] = summary["intervention_rate"]
    return metrics


def _table(results: list[tuple]) -> None:
    header = (
        f"{'robot':16} {'policy':8} {'condition':9} {'filter':6} {'reach5':>6} {'reach2':>6} "
        f"{'final m':>7} {'t_reach':>7} {'moving':>6} {'caught':>6} {'c.rmse':>6} {'unreach':>7} "
        f"{'rmse m':>8} "
        f"{'x expert':>8} {'effort':>7} {'interv.':>7} {'corr.':>6} {'fallbk':>6} {'viol':>5} {'(p/v/f)':>12} "
        f"{'s':>5}"
    )
    print(header)
    print("-" * len(header))
    experts = {(r[0], r[2], r[3]): r[4]["tracking_rmse_mean"] for r in results if r[1] == "expert"}
    for robot, policy, condition, filtered, s, seconds in results:
        expert = experts.get((robot, condition, filtered), experts[(robot, "nominal", filtered)])
        ratio = s["tracking_rmse_mean"] / expert
        kinds = f"{s['violations_position']}/{s['violations_velocity']}/{s['violations_force']}"
        reach = " ".join(
            _cell(s[key], width)
            for key, width in zip(REACH_KEYS, (6, 6, 7, 7, 6, 6, 6, 7), strict=True)
        )
        print(
            f"{robot:16} {policy:8} {condition:9} {'on' if filtered else 'off':6} {reach} "
            f"{s['tracking_rmse_mean']:8.4f} {ratio:8.2f} {s['effort_mean']:7.3f} {s['intervention_rate']:7.1%} {s['correction_mean_nm']:6.2f} {s['fallbacks']:6d} "
            f"{s['violations']:5d} {kinds:>12} {seconds:5.0f}"
        )


def _cell(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.3f}"


def _model_sizes(robot: str) -> dict[str, int | None]:
    """`<policy>_parameters` (weights and biases of each shipped model file, not its stored
    normalisation) and `<policy>_synapses` (its wiring's, None without a wiring)."""
    from ltc_control.resources import shipped_policy
    from ltc_control.training.baselines import load_trained_policy

    sizes: dict[str, int | None] = {}
    for name in POLICIES:
        path = shipped_policy(robot, name)
        if not path.is_file():
            continue
        policy = load_trained_policy(path)
        network = getattr(policy, "network", None)  # runtime LiquidPolicy; baselines: params
        params = network.params() if network is not None else policy.params
        sizes[f"{name}_parameters"] = int(sum(np.size(v) for v in params.values()))
        wiring = getattr(policy, "wiring", None)
        sizes[f"{name}_synapses"] = (
            None if wiring is None else wiring.synapse_count + wiring.sensory_synapse_count
        )
    return sizes


def _plot(results: list[tuple], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    robots = sorted({r[0] for r in results})
    figure, axes = plt.subplots(1, len(robots), figsize=(6 * len(robots), 4), squeeze=False)
    conditions = ["nominal", "50Hz", "200Hz", "jitter30"]
    for axis, robot in zip(axes[0], robots, strict=True):
        rows = {(r[1], r[2]): r[4] for r in results if r[0] == robot and r[3]}
        expert = rows[("expert", "nominal")]["tracking_rmse_mean"]
        policies = [p for p in POLICIES if (p, "nominal") in rows]
        width = 0.8 / len(conditions)
        for j, condition in enumerate(conditions):
            values = [
                rows.get((p, condition), {}).get("tracking_rmse_mean", np.nan) / expert
                for p in policies
            ]
            axis.bar(np.arange(len(policies)) + j * width, values, width, label=condition)
        axis.axhline(1.0, color="black", linewidth=1, label="expert")
        axis.axhline(1.5, color="red", linestyle=":", linewidth=1, label="1.5x target")
        axis.set_xticks(np.arange(len(policies)) + 0.4 - width / 2, policies)
        axis.set_ylabel("tracking RMSE / expert")
        axis.set_title(f"{robot} (filter on)")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=None, help="100 (3 with --quick)")
    parser.add_argument("--duration", type=float, default=3.0, help="s per episode")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--robots", nargs="+", default=list(ROBOTS))
    parser.add_argument(
        "--no-unfiltered",
        action="store_true",
        help="skip the nominal runs without the filter (expert, cfc19, ltc19, lstm19)",
    )
    parser.add_argument(
        "--filter-at-sensor-rate",
        action="store_true",
        help="run the filter once per sensor sample instead of at the 1 kHz torque loop",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="development run: 3 episodes, nominal condition and tracking task, no unfiltered runs",
    )
    parser.add_argument("--plot", default="build/bench/control.png")
    args = parser.parse_args()
    if args.episodes is None:
        args.episodes = QUICK_EPISODES if args.quick else 100
    started = time.perf_counter()
    jobs = _jobs(
        args.robots,
        args.episodes,
        args.duration,
        not (args.no_unfiltered or args.quick),
        args.filter_at_sensor_rate,
        shifted=not args.quick,
    )
    with Pool(args.workers) as pool:
        raw = []
        for robot, policy, condition, summary, seconds in pool.imap(_job, jobs, chunksize=1):
            raw.append((robot, policy, condition, summary, seconds))
            # progress on stderr: the table and the JSON line (stdout) come at the end
            print(
                f"[{len(raw)}/{len(jobs)}] {robot} {policy} {condition}: {seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    results = [(r, p, c, job[5], s, sec) for (r, p, c, s, sec), job in zip(raw, jobs, strict=True)]
    _table(results)
    per_robot = {}
    for robot in args.robots:
        rows = {(r[1], r[2]): r[4] for r in results if r[0] == robot and r[3]}
        bare = {r[1]: r[4] for r in results if r[0] == robot and not r[3]}
        per_robot[robot] = _robot_metrics(rows, bare, _model_sizes(robot)) | {
            "violations_filtered": int(sum(v["violations"] for v in rows.values()))
        }
    plot = Path(args.plot)
    plot.parent.mkdir(parents=True, exist_ok=True)
    _plot(results, plot)
    elapsed = time.perf_counter() - started
    where = "at the sensor rate" if args.filter_at_sensor_rate else "at the 1 kHz torque loop"
    print(
        f"\nplot: {plot}\nbenchmark took {elapsed:.0f} s "
        f"({len(jobs)} jobs, {args.workers} workers, filter {where})"
    )
    headline = per_robot.get("panda", next(iter(per_robot.values())))
    summary = {k: v for k, v in headline.items() if k != "violations_filtered"}
    if "double_pendulum" in per_robot:  # the second robot, prefixed at the top level
        pendulum = per_robot["double_pendulum"].items()
        summary |= {f"pendulum_{k}": v for k, v in pendulum if k != "violations_filtered"}
    summary |= {
        "violations_filtered": int(sum(m["violations_filtered"] for m in per_robot.values())),
        "episodes": args.episodes,
        "episode_duration_s": args.duration,
        "seconds": round(elapsed, 1),
        "filter": "sensor_rate" if args.filter_at_sensor_rate else "torque_loop_1khz",
        "quick": args.quick,
        "robots": per_robot,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
