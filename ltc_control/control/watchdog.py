"""Command watchdog: the safety filter brakes when its inputs stop arriving.

A nominal command or a joint state older than `timeout` (s, on the node's clock: sim time in
simulation) means the policy or the sensors are gone; the filter must then publish its braking
command instead of a stale torque. Times are receive times, so a sender with a bad clock cannot
keep the watchdog quiet. A clock that went backwards since an input arrived (a simulator reset)
makes that input stale too: otherwise the watchdog would stay quiet until the clock caught up
with the old receive time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class CommandWatchdog:
    timeout: float  # s
    _last_command: float = -math.inf
    _last_state: float = -math.inf
    fired: int = 0  # times it went from quiet to firing
    _firing: bool = False

    def command_received(self, now: float) -> None:
        self._last_command = now

    def state_received(self, now: float) -> None:
        self._last_state = now

    def reset(self) -> None:
        self._last_command = self._last_state = -math.inf
        self._firing = False

    def check(self, now: float, command_expected: bool = True) -> str:
        """'' when both inputs are fresh, else why not (and count the transition to firing).
        Without `command_expected` (waiting for the first nominal command) only the joint
        state's age counts."""
        reason = ""
        if not 0.0 <= now - self._last_state <= self.timeout:
            reason = "no fresh joint state"
        elif command_expected and not 0.0 <= now - self._last_command <= self.timeout:
            reason = "no fresh nominal command"
        if reason and not self._firing:
            self.fired += 1
        self._firing = bool(reason)
        return reason
