"""builtin_interfaces/Time <-> float seconds, exact to the nanosecond."""

from __future__ import annotations

from builtin_interfaces.msg import Time


def time_msg(seconds: float) -> Time:
    sec, nanosec = divmod(round(seconds * 1e9), 1_000_000_000)
    return Time(sec=int(sec), nanosec=int(nanosec))


def to_seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9
