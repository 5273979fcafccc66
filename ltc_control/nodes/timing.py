"""Callback compute time and deadline overruns, for status messages and /diagnostics."""

from __future__ import annotations

import time
from collections import deque

import numpy as np


class ComputeTimer:
    """Times callbacks; an overrun is a callback that took longer than the control period."""

    def __init__(self, period_s: float, window: int = 1000) -> None:
        self.period_s = period_s
        self.overruns = 0
        self.count = 0
        self.last_us = 0.0
        self._recent_us: deque[float] = deque(maxlen=window)
        self._start = 0.0

    def __enter__(self) -> ComputeTimer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self._start
        self.last_us = elapsed * 1e6
        self._recent_us.append(self.last_us)
        self.count += 1
        if elapsed > self.period_s:
            self.overruns += 1

    def percentile_us(self, q: float) -> float:
        return float(np.percentile(self._recent_us, q)) if self._recent_us else 0.0
