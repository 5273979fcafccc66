"""Message field conversions: builtin_interfaces/Time <-> float seconds (exact to the
nanosecond), the stamp of a serialised message, numpy vectors -> float64[] fields."""

from __future__ import annotations

import array
import struct

import numpy as np
from builtin_interfaces.msg import Time


def time_msg(seconds: float) -> Time:
    sec, nanosec = divmod(round(seconds * 1e9), 1_000_000_000)
    return Time(sec=int(sec), nanosec=int(nanosec))


def to_seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


_CDR_LITTLE_ENDIAN = b"\x00\x01"  # encapsulation id of the serialised messages rmw sends


def header_stamp(serialized: bytes) -> float | None:
    """The header stamp (s) of a serialised message whose first field is a std_msgs/Header,
    read without deserialising the rest (stamp.sec int32, stamp.nanosec uint32 right after the
    4-byte CDR encapsulation); None if the encoding is not little-endian CDR."""
    if len(serialized) < 12 or serialized[:2] != _CDR_LITTLE_ENDIAN:
        return None
    sec, nanosec = struct.unpack_from("<iI", serialized, 4)
    return sec + nanosec * 1e-9


def as_float64_array(values: np.ndarray) -> array.array:
    """A float64[] field value without the per-element checks a list goes through (~1 µs
    instead of ~5 µs for 7 values: it matters at 1 kHz)."""
    return array.array("d", np.ascontiguousarray(values, dtype=float).reshape(-1).tobytes())
