"""Elapsed time between sensor messages, with the checks a continuous-time network needs.

The network integrates over the real time between message stamps (s). Stamps that would give it a
wrong elapsed time are refused with a reason, and counted by the caller:
- repeated or out-of-order stamps (dt <= 0): refused;
- stamps from the future (ahead of the receiver's clock by more than `future_tolerance`): refused;
- stale stamps (older than `max_age` when received): refused;
- a clock that jumps backwards by more than `reset_jump` (a simulator reset): accepted as a new
  episode, and the caller resets the network's state;
- a gap longer than `max_dt`: accepted with dt clamped to `max_dt` (the state then decays as over
  `max_dt`; a longer horizon would only extrapolate further from the training data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class StampVerdict(Enum):
    ACCEPTED = "accepted"
    FIRST = "first"  # first message (or first after a reset): dt = nominal_dt
    CLOCK_RESET = "clock_reset"
    GAP_CLAMPED = "gap_clamped"
    OUT_OF_ORDER = "out_of_order"
    FUTURE = "future"
    STALE = "stale"
    NOT_FINITE = "not_finite"

    @property
    def accepted(self) -> bool:
        return self in (self.ACCEPTED, self.FIRST, self.CLOCK_RESET, self.GAP_CLAMPED)


@dataclass
class StampClock:
    nominal_dt: float  # s, used for the first message
    max_dt: float  # s
    max_age: float = math.inf  # s
    future_tolerance: float = 0.05  # s
    reset_jump: float = 0.5  # s
    _last: float | None = None

    def elapsed(self, stamp: float, now: float) -> tuple[StampVerdict, float]:
        """Verdict and elapsed time (s) for a message stamped `stamp`, received at `now`."""
        if not (math.isfinite(stamp) and math.isfinite(now)):
            return StampVerdict.NOT_FINITE, 0.0
        if stamp > now + self.future_tolerance:
            return StampVerdict.FUTURE, 0.0
        if now - stamp > self.max_age:
            return StampVerdict.STALE, 0.0
        last, self._last = self._last, stamp
        if last is None:
            return StampVerdict.FIRST, self.nominal_dt
        dt = stamp - last
        if dt < -self.reset_jump:
            return StampVerdict.CLOCK_RESET, self.nominal_dt
        if dt <= 0.0:
            self._last = last  # keep the newest accepted stamp
            return StampVerdict.OUT_OF_ORDER, 0.0
        if dt > self.max_dt:
            return StampVerdict.GAP_CLAMPED, self.max_dt
        return StampVerdict.ACCEPTED, dt

    @property
    def last_stamp(self) -> float | None:
        """The newest accepted stamp (s), None before the first one."""
        return self._last

    def reset(self) -> None:
        self._last = None
