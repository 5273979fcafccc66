"""Stamp checks give the network true elapsed times; the watchdog fires on silence."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ltc_control.control.stamps import StampClock, StampVerdict
from ltc_control.control.watchdog import CommandWatchdog


def make_clock() -> StampClock:
    return StampClock(
        nominal_dt=0.01, max_dt=0.1, max_age=0.5, future_tolerance=0.05, reset_jump=0.5
    )


def test_elapsed_time_is_the_stamp_difference() -> None:
    clock = make_clock()
    assert clock.elapsed(1.0, 1.0) == (StampVerdict.FIRST, 0.01)
    verdict, dt = clock.elapsed(1.013, 1.02)
    assert verdict is StampVerdict.ACCEPTED and dt == pytest.approx(0.013)


@pytest.mark.parametrize(
    ("stamp", "now", "verdict"),
    [
        (1.0, 1.0, StampVerdict.OUT_OF_ORDER),  # repeated
        (0.99, 1.0, StampVerdict.OUT_OF_ORDER),  # slightly older
        (2.0, 1.5, StampVerdict.FUTURE),
        (1.1, 2.0, StampVerdict.STALE),
        (math.nan, 1.0, StampVerdict.NOT_FINITE),
        (1.5, 1.5, StampVerdict.GAP_CLAMPED),
        (0.1, 0.1, StampVerdict.CLOCK_RESET),
    ],
)
def test_bad_stamps_get_a_verdict(stamp: float, now: float, verdict: StampVerdict) -> None:
    clock = make_clock()
    clock.elapsed(1.0, 1.0)
    got, dt = clock.elapsed(stamp, now)
    assert got is verdict
    assert (dt > 0) == verdict.accepted
    assert dt <= clock.max_dt


def test_refused_stamp_does_not_move_the_clock() -> None:
    clock = make_clock()
    clock.elapsed(1.0, 1.0)
    clock.elapsed(0.9, 1.0)  # out of order
    assert clock.elapsed(1.02, 1.02) == (StampVerdict.ACCEPTED, pytest.approx(0.02))


@given(
    st.lists(
        st.floats(-10, 10) | st.sampled_from([math.nan, math.inf, -math.inf]),
        min_size=1,
        max_size=50,
    )
)
def test_accepted_elapsed_times_are_always_in_range(stamps: list[float]) -> None:
    clock = make_clock()
    for stamp in stamps:
        verdict, dt = clock.elapsed(stamp, stamp if math.isfinite(stamp) else 0.0)
        if verdict.accepted:
            assert 0.0 < dt <= clock.max_dt
        else:
            assert dt == 0.0


def test_watchdog_fires_on_silence_and_recovers() -> None:
    watchdog = CommandWatchdog(timeout=0.05)
    assert watchdog.check(0.0) == "no fresh joint state"
    watchdog.state_received(0.0)
    watchdog.command_received(0.0)
    assert watchdog.check(0.04) == ""
    assert watchdog.check(0.06) == "no fresh joint state"
    watchdog.state_received(0.06)
    assert watchdog.check(0.07) == "no fresh nominal command"
    watchdog.command_received(0.07)
    assert watchdog.check(0.08) == ""
    assert watchdog.fired == 2  # counted once per silence, not once per check
