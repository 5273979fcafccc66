"""Reliability under bad input, faults and load: does anything unsafe ever leave the filter?

Four parts, one run (the default took 400 s and 521 s on the shared, loaded 2-core machine,
most of it the soak; the time taken is printed):

1. Generated cases on the cores (hypothesis, test/reliability/reliability_cases.py): --cases
   (default 10,000) loop events — joint states with reordered / missing / duplicated / unknown /
   empty names, wrong lengths, NaN / Inf / huge values, stamp faults (repeated, out of order,
   stale, future, NaN, clock reset, wall-clock stamps), malformed nominal commands, bad targets —
   through the policy controller and the safety filter as the nodes chain them; plus 2,000
   (q, v, u) triples straight into the filter (states inside and beyond the limits). Every
   published command goes through the independent oracle (finite, torque box, hard CBF rows
   recomputed at the state when MODE_FILTERED).
2. The same generators through real DDS topics: --dds-cases (default 1,000) generated joint states
   published to the running policy and safety filter nodes (one process, EventsExecutor, sim
   time), a good state after each; every command and SafetyStatus checked by the oracle.
3. Flood: a second process publishes joint_states, nominal_command and target at 0.25, 0.5, 1,
   2 and 5 kHz each (3 s per rate, in 1 ms bursts, a quarter malformed) into the nodes (wall time). Per rate: the rate the
   flooder achieved, what the nodes processed, RSS growth, and the time until a normal tick is
   answered once the flood stops (a backlog would show here). "Bounded" (held without unbounded
   queues) = flood within 80 % of the requested rate, RSS growth < 20 MB, answered within 0.2 s;
   "kept up" = the filter answered >= 90 % of the well-formed joint states (the policy steps at
   most at its 100 Hz).
4. Soak: --soak (default 1,000,000) joint-state messages at 1 kHz stamps through the policy
   controller + safety filter cores, chained as the nodes chain them (reliability_cases.CoreLoop;
   the nodes' code minus DDS: a million DDS round trips do not fit the budget), a seeded stream
   with ~10 % faults, RSS sampled every 10,000 messages; every command checked for finiteness and
   the torque box, and the filter's own condition margins for the hard rows.

"crashes" = exceptions that escaped (on the cores) or a node that stopped answering (DDS).
"recoveries" = returns to MODE_FILTERED after a fallback / watchdog episode.
Last stdout line: one JSON object (cases_tried, unsafe_outputs, crashes, max_rss_growth_mb, ...).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from e2e import policy_file  # the shipped policy, or an untrained one if none ships

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "test"), str(ROOT / "test" / "reliability")]
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(10 + os.getpid() % 90))

FLOOD_RATES_HZ = (250.0, 500.0, 1000.0, 2000.0, 5000.0)
FLOOD_SECONDS = 3.0
SOAK_SAMPLE_EVERY = 10_000


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


# --- 1. generated cases on the cores --------------------------------------------------------


def generated_on_cores(model: Path, cases: int, direct: int) -> dict[str, int]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from reliability_cases import (
        BAD_FLOATS,
        PANDA,
        loop_case,
        make_core_loop,
        make_filter,
        run_case,
        unsafe_reason,
    )

    loop = make_core_loop(str(model))
    clock = [1.0]
    tally = {"cases": 0, "published": 0, "unsafe": 0, "crashes": 0, "recoveries": 0}
    examples = []
    quick = settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    @quick
    @given(loop_case())
    def run(case: dict) -> None:
        tally["cases"] += 1
        try:
            outcomes = run_case(loop, case, clock)
        except Exception as exc:
            tally["crashes"] += 1
            examples.append(f"crash: {exc!r} on {case}")
            return
        for outcome in outcomes:
            _count(tally, outcome.command is not None, outcome.filtered, outcome.problem)
            if outcome.problem:
                examples.append(f"unsafe: {outcome.problem} on {case}")

    run()
    reference = make_filter()
    values = st.floats(-3.5, 3.5) | BAD_FLOATS
    vector = st.lists(values, min_size=PANDA.dof, max_size=PANDA.dof).map(np.array)
    torques = st.lists(st.floats(-300, 300) | BAD_FLOATS, min_size=PANDA.dof, max_size=PANDA.dof)

    @settings(quick, max_examples=direct)
    @given(vector, vector, torques)
    def run_direct(q: np.ndarray, v: np.ndarray, u: list) -> None:
        tally["cases"] += 1
        try:
            result = reference.filter(q, v, np.array(u))
        except Exception as exc:
            tally["crashes"] += 1
            examples.append(f"crash: {exc!r} on q={q}, v={v}, u={u}")
            return
        filtered = result.mode == "filtered"
        problem = unsafe_reason(reference, q, v, result.command, filtered)
        _count(tally, True, filtered, problem)

    run_direct()
    tally["examples"] = examples[:5]
    tally["policy_rejections"] = dict(loop.controller.rejections)
    tally["filter_counters"] = loop.filter.counters
    return tally


def _count(tally: dict, published: bool, filtered: bool, problem: str) -> None:
    if not published:
        return
    tally["published"] += 1
    tally["unsafe"] += int(bool(problem))
    if filtered and tally.get("_braking"):
        tally["recoveries"] += 1
    tally["_braking"] = not filtered


# --- 2. generated cases through real topics -------------------------------------------------


def generated_over_dds(model: Path, cases: int) -> dict[str, object]:
    import rclpy
    from hypothesis import HealthCheck, Phase, given, settings
    from rclpy.context import Context
    from reliability_cases import PANDA, joint_message
    from ros_harness import FILTERED, Loop, joint_state

    from ltc_control.runtime.signals import SignalError, match_joints

    context = Context()
    rclpy.init(context=context)
    loop = Loop(context, model)
    loop.start()
    tally = {"cases": 0, "crashes": 0, "unanswered": 0}
    start = time.perf_counter()

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(joint_message(PANDA.joint_names))
    def run(msg: dict) -> None:
        tally["cases"] += 1
        try:
            q = match_joints(msg["name"], msg["position"], PANDA.joint_names)
            v = match_joints(msg["name"], msg["velocity"], PANDA.joint_names)
        except SignalError:
            q = v = None
        message = joint_state(loop.t + 0.01, [], [], [])
        message.name = msg["name"]
        message.position = [float(x) for x in msg["position"]]
        message.velocity = [float(x) for x in msg["velocity"]]
        try:
            valid = q is not None
            home, zero = PANDA.home, np.zeros(PANDA.dof)
            loop.tick(
                q if valid else home,
                v if valid else zero,
                message=message,
                valid=valid,
                wait=valid,
                timeout=0.3,
            )
            loop.spin_for(0.002)
            if not loop.tick(timeout=2.0):  # a good state: the loop must answer
                tally["unanswered"] += 1
        except Exception:
            tally["crashes"] += 1

    run()
    elapsed = time.perf_counter() - start
    recovered = loop.recover()
    modes = [s.mode for s in loop.probe.statuses]
    recoveries = sum(1 for a, b in itertools.pairwise(modes) if a != FILTERED and b == FILTERED)
    problems = loop.unsafe_outputs()
    last = loop.last_status()
    result = {
        "cases": tally["cases"],
        "crashes": tally["crashes"] + tally["unanswered"] + (not recovered),
        "unsafe": len(problems),
        "examples": problems[:5],
        "statuses": len(modes),
        "commands": len(loop.probe.commands),
        "recoveries": recoveries,
        "rejected_messages": last.rejected_messages,
        "fallbacks": last.fallback_count,
        "watchdog": last.watchdog_count,
        "seconds": elapsed,
    }
    loop.close()
    rclpy.shutdown(context=context)
    return result


# --- 3. flood ---------------------------------------------------------------------------------


def flood(model: Path) -> list[dict[str, float]]:
    import rclpy
    from rclpy.context import Context
    from ros_harness import Loop

    context = Context()
    rclpy.init(context=context)
    loop = Loop(context, model, sim_time=False)
    loop.start()
    rows = []
    for rate in FLOOD_RATES_HZ:
        loop.spin_for(0.5)
        rss_before = rss_mb()
        commands, steps = len(loop.probe.commands), len(loop.probe.policy_states)
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "test" / "reliability" / "traffic.py"),
                "flood",
                str(rate),
                str(FLOOD_SECONDS),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        while process.poll() is None:
            loop.spin_for(0.05)
        flood_s = time.perf_counter() - start
        report = json.loads(process.communicate()[0].strip().splitlines()[-1])
        growth = rss_mb() - rss_before
        answered = time.perf_counter()
        ok = loop.tick(timeout=5.0)
        answer_s = time.perf_counter() - answered if ok else math.inf
        row = {
            "requested_hz": rate,
            "achieved_hz": report["rate_hz"],
            "filter_outputs_hz": (len(loop.probe.commands) - commands) / flood_s,
            "policy_steps_hz": (len(loop.probe.policy_states) - steps) / flood_s,
            "rss_growth_mb": growth,
            "answer_after_s": answer_s,
        }
        row["bounded"] = bool(report["rate_hz"] >= 0.8 * rate and growth < 20.0 and answer_s < 0.2)
        # Kept up: the filter answered >= 90 % of the well-formed joint states (3 in 4).
        row["kept_up"] = bool(row["filter_outputs_hz"] >= 0.9 * 0.75 * report["rate_hz"])
        rows.append(row)
        loop.recover()
    problems = loop.unsafe_outputs()
    rows.append({"unsafe": len(problems), "examples": problems[:5], "recovered": loop.recover()})
    loop.close()
    rclpy.shutdown(context=context)
    return rows


# --- 4. soak ----------------------------------------------------------------------------------


class SoakStream:
    """A seeded stream of 1 kHz joint-state messages: a slow motion around home, ~10 % faults
    (malformed messages, bad stamps, huge values, a malformed nominal command)."""

    FAULTS = (
        "nan",
        "short",
        "duplicate",
        "unknown",
        "empty",
        "repeated",
        "stale",
        "future",
        "huge",
        "bad_nominal",
    )

    def __init__(self, names: tuple[str, ...], home: np.ndarray, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.names, self.home = list(names), home
        self.t = 1.0
        self.k = 0

    def next(self) -> tuple[str, dict, float, float]:
        """(kind, message, stamp, now)."""
        self.k += 1
        self.t += 0.001  # the 1 kHz torque loop; the policy steps on every 10th
        phase = 0.0002 * self.k
        q = self.home + 0.3 * np.sin(phase + np.arange(len(self.home)))
        v = 0.6 * np.cos(phase + np.arange(len(self.home)))
        msg = {"name": self.names, "position": q.tolist(), "velocity": v.tolist()}
        kind = "good"
        if self.rng.random() < 0.1:
            kind = self.FAULTS[self.rng.integers(len(self.FAULTS))]
        stamp, now = self.t, self.t + 0.001
        if kind == "nan":
            msg["position"][self.rng.integers(len(q))] = math.nan
        elif kind == "short":
            msg["velocity"] = msg["velocity"][:-1]
        elif kind == "duplicate":
            msg = {k: [*v, v[0]] for k, v in msg.items()}
        elif kind == "unknown":
            msg["name"] = ["elbow", *self.names[1:]]
        elif kind == "empty":
            msg = {"name": [], "position": [], "velocity": []}
        elif kind == "repeated":
            stamp = self.t - 0.001
        elif kind == "stale":
            stamp = self.t - 5.0
        elif kind == "future":
            stamp = self.t + 5.0
        elif kind == "huge":
            msg["velocity"] = [1e300] * len(q)
        return kind, msg, stamp, now


def soak(model: Path, messages: int) -> dict[str, object]:
    from reliability_cases import PANDA, make_core_loop

    loop = make_core_loop(str(model), check="margins")
    stream = SoakStream(PANDA.joint_names, PANDA.home)
    tally = {"messages": 0, "commands": 0, "unsafe": 0, "crashes": 0, "filtered": 0}
    samples = []
    start = time.perf_counter()
    for i in range(messages):
        if i % SOAK_SAMPLE_EVERY == 0:
            samples.append((i, rss_mb()))
        kind, msg, stamp, now = stream.next()
        tally["messages"] += 1
        try:
            if kind == "bad_nominal":
                loop.injected_nominal(list(PANDA.joint_names), [math.nan] * PANDA.dof, now)
            outcome = loop.joint_state(msg, stamp, now)
        except Exception:
            tally["crashes"] += 1
            continue
        if outcome.command is not None:
            tally["commands"] += 1
            tally["filtered"] += int(outcome.filtered)
            tally["unsafe"] += int(bool(outcome.problem))
    elapsed = time.perf_counter() - start
    samples.append((messages, rss_mb()))
    return _soak_summary(tally, samples, elapsed, loop)


def _soak_summary(tally: dict, samples: list, elapsed: float, loop) -> dict[str, object]:
    index = np.array([s[0] for s in samples], dtype=float)
    rss = np.array([s[1] for s in samples])
    warm = index >= min(50_000, index[-1] / 10)  # after imports, caches and first allocations
    slope = np.polyfit(index[warm], rss[warm], 1)[0] * 1e5 if warm.sum() >= 3 else 0.0
    return {
        **tally,
        "seconds": elapsed,
        "rate_hz": tally["messages"] / elapsed,
        "rss_start_mb": float(rss[0]),
        "rss_after_warmup_mb": float(rss[warm][0]),
        "rss_end_mb": float(rss[-1]),
        "rss_growth_after_warmup_mb": float(rss[-1] - rss[warm][0]),
        "rss_slope_mb_per_100k": float(slope),
        "rss_max_mb": float(rss.max()),
        "policy_rejections": dict(loop.controller.rejections),
        "filter_counters": loop.filter.counters,
    }


# --- report -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--direct-cases", type=int, default=2_000)
    parser.add_argument("--dds-cases", type=int, default=1_000)
    parser.add_argument("--soak", type=int, default=1_000_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # overflow in huge inputs is the point
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="ltc_load_"))
    model, model_kind = policy_file(workdir)
    print(f"policy: {model_kind} ({model})", flush=True)

    cores = generated_on_cores(model, args.cases, args.direct_cases)
    print(
        f"[1] cores: {cores['cases']} cases, {cores['published']} commands, "
        f"{cores['unsafe']} unsafe, {cores['crashes']} crashes, "
        f"{cores['recoveries']} recoveries",
        flush=True,
    )
    dds = generated_over_dds(model, args.dds_cases)
    print(
        f"[2] DDS: {dds['cases']} cases in {dds['seconds']:.1f} s, {dds['statuses']} statuses, "
        f"{dds['unsafe']} unsafe, {dds['crashes']} crashes, {dds['recoveries']} recoveries",
        flush=True,
    )
    floods = flood(model)
    flood_check = floods.pop()
    soaked = soak(model, args.soak)
    total_s = time.perf_counter() - started
    bounded = [r["requested_hz"] for r in floods if r["bounded"]]
    kept_up = [r["requested_hz"] for r in floods if r["kept_up"]]

    print("\nGenerated cases (oracle: finite, torque box, hard CBF rows when filtered)")
    print(f"{'part':<28}{'cases':>9}{'commands':>10}{'unsafe':>8}{'crashes':>9}{'recov.':>8}")
    print(
        f"{'cores (hypothesis)':<28}{cores['cases']:>9}{cores['published']:>10}"
        f"{cores['unsafe']:>8}{cores['crashes']:>9}{cores['recoveries']:>8}"
    )
    print(
        f"{'real topics (hypothesis)':<28}{dds['cases']:>9}{dds['commands']:>10}"
        f"{dds['unsafe']:>8}{dds['crashes']:>9}{dds['recoveries']:>8}"
    )
    print("\nFlood from another process (joint_states + nominal_command + target, each)")
    print(
        f"{'requested Hz':>13}{'achieved':>10}{'filter out/s':>14}{'policy/s':>10}"
        f"{'RSS +MB':>9}{'answer s':>10}{'bounded':>9}{'kept up':>9}"
    )
    for r in floods:
        print(
            f"{r['requested_hz']:>13.0f}{r['achieved_hz']:>10.0f}{r['filter_outputs_hz']:>14.0f}"
            f"{r['policy_steps_hz']:>10.0f}{r['rss_growth_mb']:>9.1f}"
            f"{r['answer_after_s']:>10.3f}{'yes' if r['bounded'] else 'no':>9}"
            f"{'yes' if r['kept_up'] else 'no':>9}"
        )
    print(
        f"flood outputs checked: {flood_check['unsafe']} unsafe; recovered: "
        f"{flood_check['recovered']}"
    )
    print(
        f"\nSoak on the cores: {soaked['messages']} messages in {soaked['seconds']:.0f} s "
        f"({soaked['rate_hz']:.0f}/s), {soaked['commands']} commands "
        f"({soaked['filtered']} filtered), {soaked['unsafe']} unsafe, "
        f"{soaked['crashes']} crashes"
    )
    print(
        f"RSS: start {soaked['rss_start_mb']:.1f} MB, after warm-up "
        f"{soaked['rss_after_warmup_mb']:.1f} MB, end {soaked['rss_end_mb']:.1f} MB, "
        f"slope {soaked['rss_slope_mb_per_100k']:+.3f} MB per 100k messages"
    )
    print(f"\ntotal {total_s:.0f} s")
    for example in cores["examples"] + dds["examples"] + flood_check["examples"]:
        print("  example:", example)
    print(
        json.dumps(
            {
                "cases_tried": cores["cases"] + dds["cases"],
                "cases_on_cores": cores["cases"],
                "cases_over_dds": dds["cases"],
                "unsafe_outputs": cores["unsafe"]
                + dds["unsafe"]
                + flood_check["unsafe"]
                + soaked["unsafe"],
                "crashes": cores["crashes"]
                + dds["crashes"]
                + soaked["crashes"]
                + (not flood_check["recovered"]),
                "recoveries": cores["recoveries"] + dds["recoveries"],
                "max_input_rate_held_hz": max(bounded) if bounded else 0.0,
                "max_input_rate_kept_up_hz": max(kept_up) if kept_up else 0.0,
                "flood": floods,
                "soak_messages": soaked["messages"],
                "soak_seconds": round(soaked["seconds"], 1),
                "soak_unsafe": soaked["unsafe"],
                "max_rss_growth_mb": round(
                    max(
                        soaked["rss_growth_after_warmup_mb"], *(r["rss_growth_mb"] for r in floods)
                    ),
                    2,
                ),
                "soak_rss_growth_after_warmup_mb": round(soaked["rss_growth_after_warmup_mb"], 2),
                "soak_rss_slope_mb_per_100k": round(soaked["rss_slope_mb_per_100k"], 3),
                "policy": model_kind,
                "seconds": round(total_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
