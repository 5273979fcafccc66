"""Callback compute time, deadline overruns and latencies, for status messages and /diagnostics.

Samples go into preallocated numpy rings: appending is a store, and a /diagnostics report takes
its percentiles in one numpy call (a deque had to be copied first: ~0.4 ms per report inside the
1 kHz loop, enough to miss a cycle).
"""

from __future__ import annotations

import time

import numpy as np


class RecentSamples:
    """The latest `capacity` samples (oldest overwritten first)."""

    def __init__(self, capacity: int) -> None:
        self._ring = np.zeros(capacity)
        self._next = 0
        self._count = 0

    def append(self, value: float) -> None:
        self._ring[self._next] = value
        self._next = (self._next + 1) % len(self._ring)
        self._count = min(self._count + 1, len(self._ring))

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        self._next = self._count = 0

    def values(self) -> np.ndarray:
        """The samples, oldest first (a copy)."""
        if self._count < len(self._ring):
            return self._ring[: self._count].copy()
        return np.roll(self._ring, -self._next)

    def percentiles(self, qs: tuple[float, ...]) -> tuple[float, ...]:
        """Percentiles of the samples (order does not matter); zeros when empty."""
        if not self._count:
            return tuple(0.0 for _ in qs)
        return tuple(float(x) for x in np.percentile(self._ring[: self._count], qs))


class ComputeTimer:
    """Times callbacks; an overrun is a callback that took longer than the control period."""

    def __init__(self, period_s: float, window: int = 1000) -> None:
        self.period_s = period_s
        self.overruns = 0
        self.count = 0
        self.last_us = 0.0
        self.recent_us = RecentSamples(window)
        self._start = 0.0

    def __enter__(self) -> ComputeTimer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self._start
        self.last_us = elapsed * 1e6
        self.recent_us.append(self.last_us)
        self.count += 1
        if elapsed > self.period_s:
            self.overruns += 1
