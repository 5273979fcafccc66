"""Message field conversions: builtin_interfaces/Time <-> float seconds (exact to the
nanosecond), numpy vectors -> float64[] fields."""

from __future__ import annotations

import array

import numpy as np
from builtin_interfaces.msg import Time


def time_msg(seconds: float) -> Time:
    sec, nanosec = divmod(round(seconds * 1e9), 1_000_000_000)
    return Time(sec=int(sec), nanosec=int(nanosec))


def to_seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def as_float64_array(values: np.ndarray) -> array.array:
    """A float64[] field value without the per-element checks a list goes through (~1 µs
    instead of ~5 µs for 7 values: it matters at 1 kHz)."""
    return array.array("d", np.ascontiguousarray(values, dtype=float).reshape(-1).tobytes())
