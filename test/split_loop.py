"""The loop split across two hosts (shared by the across-machines test and bench/hosts.py;
imported as `split_loop`): on the robot host (a network namespace) the simulator and the safety
filter under test/loop_harness.py, on the edge host the policy and the targets under
`ltc-control bringup sim.launch.xml nodes:=policy,target`, over a veth link (netns_link).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticStatus
from netns_link import NetnsLink

from ltc_control.msg import SafetyStatus
from ltc_control.resources import share_dir

HARNESS = Path(__file__).with_name("loop_harness.py")
SIM_LAUNCH = share_dir() / "launch" / "sim.launch.xml"
Event = dict[str, object]
FILTERED, WATCHDOG = SafetyStatus.MODE_FILTERED, SafetyStatus.MODE_WATCHDOG
ERROR = DiagnosticStatus.ERROR[0]  # a byte in rclpy


class Harness:
    """A running loop_harness.py: its events as they arrive, its summary at the end."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.events: list[Event] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith("{"):
                with self._changed:
                    self.events.append(json.loads(line))
                    self._changed.notify_all()

    def wait_for(self, match: Callable[[Event], bool], timeout: float, after: int = 0) -> Event:
        """The first event from index `after` on that matches, waiting up to `timeout` s; {}
        if none came."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self.events[after:] if match(e)), None)
                if found is not None or time.monotonic() >= deadline:
                    return found or {}
                self._changed.wait(deadline - time.monotonic())

    def state_rate(self, start: float, end: float) -> float:
        """Joint states per second the robot's loop handled between its counts reports in
        (start, end); 0 when fewer than two came (the process stalled)."""
        counts = [e for e in self.events if e["event"] == "counts" and start < e["t"] < end]
        if len(counts) < 2:
            return 0.0
        return (counts[-1]["states"] - counts[0]["states"]) / (counts[-1]["t"] - counts[0]["t"])

    def stop(self, timeout: float = 30.0) -> Event:
        """SIGINT, then its summary ({} if it never came)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        summary = self.wait_for(lambda e: e["event"] == "summary", timeout)
        self.process.wait(timeout=timeout)
        return summary


def harness_command(launch_file: Path, *arguments: str, options: tuple[str, ...] = ()) -> list:
    return [sys.executable, str(HARNESS), str(launch_file), *arguments, *options]


@dataclass
class Cut:
    cut_at: float  # time.monotonic() once the link was down (a few µs after the cut)
    restored_at: float
    brake: Event  # {} if the filter never braked
    watchdog_status: Event
    error_diagnostics: Event
    recovered: Event  # MODE_FILTERED again after the restore
    state_rate_hz: float  # the robot's loop while the link was down (Harness.state_rate)


class SplitLoop:
    """`with SplitLoop(params_file, model_file) as loop:` both hosts running, the loop flowing
    (or `loop.flowing` empty)."""

    def __init__(
        self, params_file: Path, model_file: Path, harness_options: tuple[str, ...] = ()
    ) -> None:
        self.link = NetnsLink()
        common = [f"params_file:={params_file}", f"model_file:={model_file}", "use_sim_time:=false"]
        self._robot_argv = harness_command(
            SIM_LAUNCH, "nodes:=sim,filter", *common, options=harness_options
        )
        bringup = str(Path(sys.prefix) / "bin" / "ltc-control")
        self._edge_argv = [bringup, "bringup", "sim.launch.xml", "nodes:=policy,target", *common]

    def __enter__(self) -> SplitLoop:
        self.link.__enter__()
        try:
            pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.DEVNULL, "text": True}
            self.robot = Harness(self.link.start(self.link.robot, self._robot_argv, **pipes))
            self.edge_log = tempfile.TemporaryFile(mode="w+")
            self.edge = self.link.start(
                self.link.edge, self._edge_argv, stdout=subprocess.DEVNULL, stderr=self.edge_log
            )
        except BaseException:
            self.link.__exit__()
            raise
        return self

    def wait_until_flowing(self, timeout: float) -> Event:
        """The filter filtering the policy's commands (discovery done, both ways)."""
        return self.robot.wait_for(
            lambda e: e["event"] == "mode" and e["mode"] == FILTERED, timeout
        )

    def filtering(self) -> bool:
        modes = [e["mode"] for e in self.robot.events if e["event"] == "mode"]
        return bool(modes) and modes[-1] == FILTERED

    def cut_and_restore(self, hold: float, recover_within: float) -> Cut:
        """Cut the link for `hold` s once the filter is filtering (a loaded machine may have
        stalled the policy past the watchdog a moment ago)."""
        self.robot.wait_for(lambda e: self.filtering(), recover_within)
        mark = len(self.robot.events)
        cut_at = self.link.cut()
        time.sleep(hold)
        restored_at = self.link.restore()
        wait = self.robot.wait_for

        def after_cut(kind: str, **fields: object) -> Callable[[Event], bool]:
            return lambda e: e["event"] == kind and all(e.get(k) == v for k, v in fields.items())

        return Cut(
            cut_at,
            restored_at,
            brake=wait(after_cut("brake"), 0.0, mark),
            watchdog_status=wait(after_cut("mode", mode=WATCHDOG), 0.0, mark),
            error_diagnostics=wait(after_cut("diagnostics", level=ERROR), 1.0, mark),
            recovered=wait(after_cut("mode", mode=FILTERED), recover_within, mark),
            state_rate_hz=self.robot.state_rate(cut_at, restored_at),
        )

    def __exit__(self, *exc: object) -> None:
        try:
            self.summary = self.robot.stop()
        finally:
            if self.edge.poll() is None:
                self.edge.send_signal(signal.SIGINT)
            try:
                self.edge.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.edge.kill()
            for process in (self.robot.process, self.edge):
                if process.poll() is None:
                    process.kill()
            self.link.__exit__()
