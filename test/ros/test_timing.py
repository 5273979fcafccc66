"""Bounded sample rings behind /diagnostics and the latency benchmark."""

from __future__ import annotations

import numpy as np

from ltc_control.nodes.sim_node import CommandLatency
from ltc_control.nodes.timing import ComputeTimer, RecentSamples


def test_recent_samples_keep_the_latest_in_order_and_summarise_them() -> None:
    ring = RecentSamples(4)
    assert len(ring) == 0 and ring.percentiles((50, 99)) == (0.0, 0.0)
    for value in range(1, 7):  # 1..6 into 4 slots: 1 and 2 are overwritten
        ring.append(float(value))
    np.testing.assert_array_equal(ring.values(), [3.0, 4.0, 5.0, 6.0])
    assert len(ring) == 4 and ring.percentiles((0, 50, 100)) == (3.0, 4.5, 6.0)
    ring.clear()
    ring.append(9.0)
    np.testing.assert_array_equal(ring.values(), [9.0])


def test_compute_timer_counts_overruns_of_the_period() -> None:
    timer = ComputeTimer(period_s=1e-9, window=3)
    for _ in range(5):
        with timer:
            sum(range(1000))
    assert timer.count == 5 and timer.overruns == 5 and len(timer.recent_us) == 3
    assert timer.recent_us.percentiles((50,))[0] > 0.0


def test_command_latency_pairs_each_state_with_the_first_command() -> None:
    latency = CommandLatency()
    latency.state_published(1.0)
    latency.command_arrived(1.0004)
    latency.command_arrived(1.0006)  # a second command answers nothing new
    latency.state_published(2.0)
    latency.state_published(3.0)  # the state at 2.0 got no answer: dropped
    latency.command_arrived(3.0002)
    np.testing.assert_allclose(latency.samples_s.values(), [0.0004, 0.0002], atol=1e-12)
    assert latency.dropped == 1 and len(latency.recent_s) == 2
