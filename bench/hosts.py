"""Control-loop latency in the layouts users run, and braking after a cut link.

Every row: the Panda loop of launch/sim.launch.xml, the sim in real time at 1 kHz with wall-clock
stamps (a robot's torque loop; the policy at its 100 Hz), the latency measured as bench/e2e.py
measures it (the sim's CommandLatency: publishing a joint state -> the command answering it,
every state; ltc_testing.latency_summary) by test/loop_harness.py, the process that holds the sim:

- local: the whole launch file in one process, as `ltc-control bringup` runs it (blocking spin),
  and as `ltc-control bringup --busy-poll` runs it (local_busy_poll; bench/e2e.py's primary row);
- processes: one process per node, what `ros2 launch ... composed:=false` starts: the sim in the
  harness, the filter, policy and target from the command lines the launch file gives them;
- composed: what `ros2 launch sim.launch.xml` starts by default, the composed_nodes entry built
  as that executable builds it from the launch file's arguments (blocking spin), and with the
  filter's busy_poll parameter true (composed_busy_poll: the whole process polls);
- split: the policy and targets on another host: two network namespaces joined by a veth pair
  (test/netns_link.py), the sim and the filter under the harness on the robot host as
  `ltc-control bringup sim.launch.xml nodes:=sim,filter` runs them, the policy and targets under
  `ltc-control bringup sim.launch.xml nodes:=policy,target` on the edge host.

Then, on the split loop, --cuts times: the link is cut (the edge end's IFF_UP, as `ip link set
down` does), held --hold s, restored; "brake after cut" = the first braking command's arrival at
the robot's command topic after the cut (matched to the filter's watchdog SafetyStatus), and
recovery = the filter filtering again; each cut is counted as reported when the filter's
SafetyStatus said watchdog, and its /diagnostics (5 Hz on this loop) said ERROR before the
restore; "loop while cut" = the joint states per second the robot's side handled while the link
was down (a stall there is the torque loop waiting on the dead link: config/fastdds.xml). "policy round trip" = a joint state's stamp to the
arrival of the policy's nominal command answering it (its stamp), at the filter's host.
Human table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from e2e import policy_file  # the shipped policy, or an untrained one if none ships

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test"))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(10 + os.getpid() % 90))
from ltc_testing import launch_command, realtime_parameters, stop_processes  # noqa: E402
from netns_link import unavailable_reason  # noqa: E402
from split_loop import SIM_LAUNCH, Harness, SplitLoop, harness_command  # noqa: E402

RATE_HZ = 1000.0
WATCHDOG_TIMEOUT_S = 0.05  # config/panda.yaml's safety_filter.watchdog_timeout


def run_local_layout(
    common: list[str], harness_options: tuple[str, ...], others: list[str], seconds: float
) -> dict:
    """The harness with `common` launch arguments, plus the launch file's `others` nodes each
    as its own process (composed:=false)."""
    from ltc_control.nodes.launch_xml import read_launch_file

    workdir = Path(tempfile.mkdtemp(prefix="ltc_hosts_"))
    processes = []
    if others:
        arguments = dict(a.split(":=", 1) for a in common)
        launch = read_launch_file(SIM_LAUNCH, {**arguments, "nodes": ",".join(others)})
        processes = [
            subprocess.Popen(
                launch_command(e, workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for e in launch.nodes
        ]
    options = (*harness_options, "--seconds", str(seconds))
    harness = Harness(
        subprocess.Popen(
            harness_command(SIM_LAUNCH, *common, options=options),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    )
    try:
        summary = harness.wait_for(lambda e: e["event"] == "summary", seconds + 120.0)
    finally:
        harness.stop()
        stop_processes(processes)
    return summary


def run_split(params: Path, model: Path, seconds: float, cuts: int, hold: float) -> dict:
    with SplitLoop(params, model) as loop:
        if not loop.wait_until_flowing(90.0):
            raise RuntimeError("the two hosts never discovered each other")
        time.sleep(seconds)
        results = [loop.cut_and_restore(hold, recover_within=10.0) for _ in range(cuts)]
    summary = dict(loop.summary)
    braked = [c for c in results if c.brake]
    after_ms = np.array([(c.brake["t"] - c.cut_at) * 1e3 for c in braked])
    summary.update(
        cuts=cuts,
        braked=len(braked),
        brake_matched=sum(bool(c.brake.get("matched")) for c in braked),
        recovered=sum(bool(c.recovered) for c in results),
        reported_status=sum(bool(c.watchdog_status) for c in results),
        reported_diagnostics=sum(
            bool(c.error_diagnostics) and c.error_diagnostics["t"] < c.restored_at for c in results
        ),
        loop_while_cut_hz_min=min(c.state_rate_hz for c in results),
        loop_while_cut_hz_median=float(np.median([c.state_rate_hz for c in results])),
        brake_after_cut_ms_median=float(np.median(after_ms)) if braked else None,
        brake_after_cut_ms_max=float(after_ms.max()) if braked else None,
        recovery_after_restore_ms_median=float(
            np.median([(c.recovered["t"] - c.restored_at) * 1e3 for c in results if c.recovered])
        )
        if any(c.recovered for c in results)
        else None,
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured per layout")
    parser.add_argument("--cuts", type=int, default=10, help="link cuts on the split loop")
    parser.add_argument("--hold", type=float, default=2.0, help="link down per cut, s")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ltc_hosts_"))
    model, which = policy_file(workdir)
    params = realtime_parameters(workdir, RATE_HZ, wall_clock=True)
    (workdir / "busy_poll").mkdir()
    polling = realtime_parameters(
        workdir / "busy_poll", RATE_HZ, wall_clock=True, safety_filter={"busy_poll": True}
    )
    common = [f"model_file:={model}", "use_sim_time:=false"]
    plain = [f"params_file:={params}", *common]
    layouts = {
        "local": lambda: run_local_layout(plain, (), [], args.seconds),
        "local_busy_poll": lambda: run_local_layout(plain, ("--busy-poll",), [], args.seconds),
        "processes": lambda: run_local_layout(
            [*plain, "composed:=false", "nodes:=sim"],
            (),
            ["target", "filter", "policy"],
            args.seconds,
        ),
        "composed": lambda: run_local_layout(plain, ("--executable",), [], args.seconds),
        "composed_busy_poll": lambda: run_local_layout(
            [f"params_file:={polling}", *common], ("--executable",), [], args.seconds
        ),
    }
    rows = {name: run() for name, run in layouts.items()}
    reason = unavailable_reason()
    if reason:
        print(f"split: skipped ({reason})")
    else:
        # /diagnostics at 5 Hz on the split loop: reports within each cut.
        (workdir / "split").mkdir()
        reporting = realtime_parameters(
            workdir / "split", RATE_HZ, wall_clock=True, safety_filter={"diagnostics_period": 0.2}
        )
        rows["split"] = run_split(reporting, model, args.seconds, args.cuts, args.hold)
    report(rows, which, model, args)


def report(rows: dict[str, dict], which: str, model: Path, args: argparse.Namespace) -> None:
    print(f"policy: {which} ({model.name}); Panda, sim real time at {RATE_HZ:.0f} Hz, wall clock")
    print(
        f"{'layout':>19} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'answered':>8} {'late':>5} "
        f"{'dropped':>7} {'Hz':>6} {'policy rt p50/p99 ms':>21} {'unsafe':>6}"
    )
    for name, r in rows.items():
        trip = f"{r.get('policy_round_trip_p50_ms', float('nan')):.2f} / "
        trip += f"{r.get('policy_round_trip_p99_ms', float('nan')):.2f}"
        print(
            f"{name:>19} {r['p50_ms']:7.3f} {r['p99_ms']:7.3f} {r['max_ms']:7.2f} "
            f"{r['answered']:8d} {r['late']:5d} {r['dropped']:7d} {r['achieved_hz']:6.0f} "
            f"{trip:>21} {r['unsafe_commands']:6d}"
        )
    summary = {"policy": which, "rate_hz": RATE_HZ, "watchdog_timeout_ms": WATCHDOG_TIMEOUT_S * 1e3}
    for name, r in rows.items():
        for field in ("p50_ms", "p99_ms", "late", "dropped", "achieved_hz"):
            summary[f"{field}_{name}"] = r[field]
    split = rows.get("split")
    if split:
        print(
            f"split link, {split['cuts']} cuts of {args.hold:.1f} s: braked after {split['braked']}, "
            f"brake after cut median {split['brake_after_cut_ms_median']:.1f} ms, max "
            f"{split['brake_after_cut_ms_max']:.1f} ms (watchdog {WATCHDOG_TIMEOUT_S * 1e3:.0f} ms "
            f"+ one period {1e3 / RATE_HZ:.0f} ms); in SafetyStatus {split['reported_status']}, "
            f"in /diagnostics {split['reported_diagnostics']}, recovered "
            f"{split['recovered']} (median {split['recovery_after_restore_ms_median']:.0f} ms after "
            f"the restore); loop while cut: min {split['loop_while_cut_hz_min']:.0f} Hz, median "
            f"{split['loop_while_cut_hz_median']:.0f} Hz"
        )
        for key in (
            "cuts", "braked", "recovered", "reported_status", "reported_diagnostics",
            "brake_after_cut_ms_median",
            "brake_after_cut_ms_max", "recovery_after_restore_ms_median",
            "loop_while_cut_hz_min", "loop_while_cut_hz_median",
        ):  # fmt: skip
            summary[key] = split[key]
    summary["unsafe_commands"] = sum(r["unsafe_commands"] for r in rows.values())
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
