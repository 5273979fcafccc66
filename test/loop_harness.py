"""The measuring side of a control loop, as its own process (shared by the across-machines test
and bench/hosts.py):

    python test/loop_harness.py LAUNCH_FILE name:=value ... [--executable] [--busy-poll]
                                [--warmup S] [--seconds S]

Starts a launch file's nodes in this process, as `ltc-control bringup` does (or, with
--executable, its composed_nodes entry as that executable builds it from the arguments the
launch file gives it), plus a probe on the loop's topics, and prints JSON lines on stdout:

    {"event": "ready"}                                nodes built, spinning
    {"event": "counts", "t", "commands", "states", "nominal", "unsafe"}  every 0.25 s (totals)
    {"event": "mode", "t", "mode", "reason"}          SafetyStatus mode changes
    {"event": "brake", "t", "matched"}                the first braking command of a watchdog
                                                      episode arrived (its own arrival time when
                                                      the status names its command: matched)
    {"event": "diagnostics", "t", "level", "message"} each /diagnostics report of the filter
    {"event": "summary", ...}                         at the end (SIGINT/SIGTERM or --seconds)

Times are time.monotonic(): one clock for every network namespace of a machine. The summary has
the loop latency measured by the simulator's CommandLatency (from --warmup s after the filter
first filtered the policy's command), as bench/e2e.py reports it (ltc_testing.latency_summary), the policy's round trip (joint-state stamp to its
nominal command's arrival, wall-clock stamps only) and the commands outside the torque box.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ltc_testing import latency_summary, launch_command

COUNTS_PERIOD_S = 0.25
COMMANDS_KEPT = 200  # recent commands a braking status is matched against
FLOW_TIMEOUT_S = 60.0  # longest wait for the loop to filter before measuring anyway


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def make_probe(context: object, robot_name: str, states: Callable[[], int]) -> object:
    """`states()`: joint states published so far (0 without a simulator here)."""
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.node import Node
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from ltc_control.msg import SafetyStatus
    from ltc_control.nodes.fields import to_seconds
    from ltc_control.nodes.timing import RecentSamples
    from ltc_control.robots import load_robot_description

    effort = load_robot_description(robot_name).limits.effort

    class Probe(Node):
        def __init__(self) -> None:
            super().__init__(
                "loop_probe",
                context=context,
                cli_args=["--ros-args", "-r", "commands:=/effort_controller/commands"],
                use_global_arguments=False,
            )
            self.commands = self.nominal = self.unsafe = 0
            self.recent: deque[tuple[float, tuple[float, ...]]] = deque(maxlen=COMMANDS_KEPT)
            self.round_trip_s = RecentSamples(100_000)
            self.mode: int | None = None
            self.create_subscription(Float64MultiArray, "commands", self._on_command, 100)
            self.create_subscription(JointState, "nominal_command", self._on_nominal, 100)
            self.create_subscription(SafetyStatus, "safety_status", self._on_status, 100)
            self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 50)
            self.create_timer(COUNTS_PERIOD_S, self._report_counts)

        def _on_command(self, msg: Float64MultiArray) -> None:
            now = time.monotonic()
            data = tuple(msg.data)
            self.commands += 1
            self.recent.append((now, data))
            if not np.all(np.abs(data) <= effort + 1e-9):
                self.unsafe += 1

        def _on_nominal(self, msg: JointState) -> None:
            self.nominal += 1
            self.round_trip_s.append(time.time() - to_seconds(msg.header.stamp))

        def _on_status(self, msg: SafetyStatus) -> None:
            now = time.monotonic()
            if msg.mode == self.mode:
                return
            if msg.mode == SafetyStatus.MODE_WATCHDOG:
                command = tuple(msg.safe_command)
                sent = [t for t, data in self.recent if data == command]
                emit("brake", t=sent[0] if sent else now, matched=bool(sent))
            self.mode = msg.mode
            emit("mode", t=now, mode=msg.mode, reason=msg.reason)

        def _on_diagnostics(self, msg: DiagnosticArray) -> None:
            for status in msg.status:
                if status.name.startswith("safety_filter"):
                    level = status.level if isinstance(status.level, int) else status.level[0]
                    emit("diagnostics", t=time.monotonic(), level=level, message=status.message)

        def _report_counts(self) -> None:
            emit(
                "counts",
                t=time.monotonic(),
                commands=self.commands,
                states=states(),
                nominal=self.nominal,
                unsafe=self.unsafe,
            )

    return Probe()


def build(args: argparse.Namespace) -> tuple[object, list[object]]:
    from rclpy.context import Context

    from ltc_control.nodes import composed
    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.launch_xml import read_launch_file
    from ltc_control.nodes.spin import init_ros

    overrides = dict(text.split(":=", 1) for text in args.arguments)
    context = Context()
    workdir = Path(tempfile.mkdtemp(prefix="ltc_harness_"))
    if args.executable:  # as composed_nodes builds its nodes: global ROS arguments
        (entry,) = read_launch_file(args.launch_file, overrides).nodes
        command = launch_command(entry, workdir)
        init_ros(context=context, args=[entry.executable, *command[command.index("--ros-args") :]])
        return context, composed.build(context, entry.arguments)
    init_ros(context)
    return context, build_nodes(args.launch_file, overrides, context, workdir).nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("launch_file", type=Path)
    parser.add_argument("arguments", nargs="*", help="launch arguments, name:=value")
    parser.add_argument("--executable", action="store_true", help="as composed_nodes builds it")
    parser.add_argument("--busy-poll", action="store_true", help="as bringup --busy-poll spins")
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="s of filtering before latency counts"
    )
    parser.add_argument("--seconds", type=float, default=0.0, help="s measured (0: until signal)")
    parser.add_argument("--robot", default="panda", help="for the torque box")
    args = parser.parse_args()

    from ltc_control.msg import SafetyStatus
    from ltc_control.nodes.spin import make_executor, spin_until_shutdown

    FILTERED = SafetyStatus.MODE_FILTERED

    stop = {"requested": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(requested=True))
    signal.signal(signal.SIGTERM, lambda *_: stop.update(requested=True))
    context, nodes = build(args)
    sim = next((node for node in nodes if node.get_name() == "sim"), None)
    probe = make_probe(context, args.robot, lambda: round(sim.sim.time / sim.period) if sim else 0)
    executor = make_executor(context)
    for node in [*nodes, probe]:
        executor.add_node(node)
    busy_poll = args.busy_poll or any(getattr(node, "busy_poll", False) for node in nodes)
    start = time.monotonic()
    emit("ready", t=start)
    end = float("inf")

    def spin_until(done: Callable[[], bool], stoppable: bool = True) -> None:
        def finished() -> bool:
            return (stoppable and stop["requested"]) or done() or time.monotonic() >= end

        spin_until_shutdown(executor, context, finished, busy_poll)

    # Latency counts once the loop filters the policy's commands and --warmup s have passed.
    spin_until(lambda: probe.mode == FILTERED or time.monotonic() > start + FLOW_TIMEOUT_S)
    warm = time.monotonic() + args.warmup
    spin_until(lambda: time.monotonic() >= warm)
    measured_from, published_before = time.monotonic(), sim.sim.time if sim else 0.0
    end = measured_from + args.seconds if args.seconds else float("inf")
    if sim is not None:
        sim.latency.reset()
    gc.collect()
    gc.freeze()
    gc.disable()
    spin_until(lambda: False)
    seconds = time.monotonic() - measured_from
    summary = {"unsafe_commands": probe.unsafe, "commands": probe.commands, "seconds": seconds}
    if sim is not None:
        sim.finished = True  # no more joint states; the answers in flight still arrive
        rate = 1.0 / sim.period
        published = round((sim.sim.time - published_before) * rate)
        end = time.monotonic() + 0.1
        spin_until(lambda: False, stoppable=False)
        summary.update(latency_summary(sim.latency, rate, published, seconds))
    trips = probe.round_trip_s.values() * 1e3
    if trips.size:
        summary.update(
            policy_round_trip_p50_ms=float(np.percentile(trips, 50)),
            policy_round_trip_p99_ms=float(np.percentile(trips, 99)),
        )
    gc.enable()
    emit("summary", **summary)
    for node in [*nodes, probe]:
        getattr(node, "on_exit", lambda: None)()
        node.destroy_node()
    executor.shutdown()
    context.try_shutdown()


if __name__ == "__main__":
    main()
