"""End-to-end latency of the control loop over real DDS topics, in one process.

sim (real-time, wall-timer paced) --/joint_states--> safety filter --/effort_controller/commands-->
sim, every cycle; the policy steps on the same joint states at its trained 100 Hz and feeds the
filter's held nominal command, so its compute lands in the same executor every 10th (1 kHz) or 5th
(500 Hz) cycle. Latency: wall time from publishing a joint state to the command answering it
arriving back at the simulator (the filter answers each joint state once, in order:
`CommandLatency`), over every joint state. `dropped`: joint states never answered; `late`:
answered only after the next joint state went out (the sim stepped once more on the previous
command: a missed cycle; it also counts the simulated robot's own tick jitter, which `over_period`,
answers slower than one period, does not). Nodes on one EventsExecutor (the shared notes' fastest
configuration), spun as `ltc-control bringup --busy-poll` spins them (polling for work instead
of blocking: a blocked CPU is slow to wake on a VM), garbage collector frozen after set-up.
At 500 Hz and 1 kHz, ~8 s each after 1 s of warm-up, in two clock configurations: wall-clock
stamps without /clock (as on a real robot; the primary keys) and sim time through /clock at the
loop rate (keys ending in _simtime); and once at 1 kHz on wall clock with a blocking spin, for
comparison (_blocking).
Last stdout line: one JSON object.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test"))  # ltc_testing: shared test and benchmark support
from ltc_testing import latency_summary, realtime_parameters  # noqa: E402

from ltc_control.resources import launch_path  # noqa: E402

WARMUP_S = 1.0
MEASURE_S = 8.0


def params_file(rate_hz: float, workdir: Path, wall_clock: bool) -> Path:
    return realtime_parameters(workdir, rate_hz, wall_clock)


def policy_file(workdir: Path) -> tuple[Path, str]:
    from ltc_control.resources import shipped_policy

    shipped = shipped_policy("panda")
    if shipped.is_file():
        return shipped, "shipped"
    from ltc_testing import write_untrained_policy

    return write_untrained_policy("panda", workdir / "panda.npz"), "untrained (no shipped policy)"


def measure(
    rate_hz: float, model: Path, workdir: Path, wall_clock: bool, busy_poll: bool
) -> dict[str, float]:
    import rclpy
    from rclpy.context import Context

    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.spin import make_executor

    context = Context()
    rclpy.init(context=context)
    arguments = {
        "robot": "panda",
        "model_file": str(model),
        "params_file": str(params_file(rate_hz, workdir, wall_clock)),
        "use_sim_time": "false" if wall_clock else "true",
    }
    nodes = build_nodes(launch_path("sim.launch.xml"), arguments, context, workdir).nodes
    executor = make_executor(context)
    for node in nodes:
        executor.add_node(node)
    sim = next(node for node in nodes if node.get_name() == "sim")
    spin_for(executor, context, WARMUP_S, busy_poll)
    sim.latency.reset()
    published_before = sim.sim.time
    gc.collect()
    gc.freeze()
    gc.disable()
    spin_for(executor, context, MEASURE_S, busy_poll)
    sim.finished = True  # no more joint states; the answers in flight still arrive
    steps = round((sim.sim.time - published_before) * rate_hz)
    spin_for(executor, context, 0.1, busy_poll)
    gc.enable()
    result = latency_summary(sim.latency, rate_hz, steps, MEASURE_S)
    for node in nodes:
        node.destroy_node()
    rclpy.shutdown(context=context)
    return result


def spin_for(executor: object, context: object, seconds: float, busy_poll: bool) -> None:
    from ltc_control.nodes.spin import spin_until_shutdown

    end = time.monotonic() + seconds
    spin_until_shutdown(executor, context, lambda: time.monotonic() >= end, busy_poll)


CONFIGURATIONS = (  # (clock, rate, busy poll): wall = a real robot (no /clock); sim = via /clock
    ("wall", 500.0, True),
    ("wall", 1000.0, True),
    ("sim", 500.0, True),
    ("sim", 1000.0, True),
    ("wall", 1000.0, False),
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model, which = policy_file(workdir)
        rows = {
            configuration: measure(rate, model, workdir, clock == "wall", busy_poll)
            for configuration in CONFIGURATIONS
            for clock, rate, busy_poll in [configuration]
        }
    print(f"policy: {which} ({model.name}); one process, EventsExecutor, gc frozen")
    print(
        f"{'clock':>6} {'rate':>6} {'spin':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'published':>9} {'answered':>9} {'> period':>8} {'late':>6} {'dropped':>8} "
        f"{'achieved Hz':>12}"
    )
    summary = {"policy": which}
    for (clock, rate, busy_poll), r in rows.items():
        spin = "busy-poll" if busy_poll else "blocking"
        print(
            f"{clock:>6} {rate:6.0f} {spin:>9} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} "
            f"{r['max_ms']:8.2f} {r['published']:9d} {r['answered']:9d} {r['over_period']:8d} "
            f"{r['late']:6d} {r['dropped']:8d} {r['achieved_hz']:12.1f}"
        )
        suffix = ("_1khz" if rate == 1000 else "_500hz") + ("_simtime" if clock == "sim" else "")
        suffix += "" if busy_poll else "_blocking"
        for key in ("p50_ms", "p99_ms", "max_ms", "dropped", "late", "over_period", "achieved_hz"):
            summary[key + suffix] = r[key]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
