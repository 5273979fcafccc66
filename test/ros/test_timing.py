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


def test_command_latency_pairs_each_command_with_the_oldest_unanswered_state() -> None:
    latency = CommandLatency()
    latency.state_published(1.0)
    latency.command_arrived(1.0004)
    latency.command_arrived(1.0006)  # nothing pending (a braking command): answers nothing
    latency.state_published(2.0)
    latency.state_published(3.0)  # the state at 2.0 is still unanswered
    latency.command_arrived(3.0002)  # answers 2.0, after 3.0 went out: late
    assert latency.unanswered == 1
    latency.command_arrived(3.0005)  # answers 3.0 on time
    np.testing.assert_allclose(latency.samples_s.values(), [0.0004, 1.0002, 0.0005], atol=1e-12)
    assert (latency.late, latency.dropped, latency.unanswered) == (1, 0, 0)
    assert len(latency.recent_s) == 3


def test_command_latency_drops_a_state_left_unanswered_for_the_whole_window() -> None:
    latency = CommandLatency()
    latency.state_published(0.0)
    latency.command_arrived(0.001)  # the loop is closed
    for k in range(1, CommandLatency.ANSWER_WINDOW + 3):
        latency.state_published(float(k))
    assert latency.dropped == 2 and latency.unanswered == CommandLatency.ANSWER_WINDOW
    latency.command_arrived(100.0)  # pairs with the oldest state still in the window
    np.testing.assert_allclose(latency.samples_s.values(), [0.001, 97.0])
    latency.reset()  # the figures restart; the states in flight still await their answers
    assert latency.late == latency.dropped == len(latency.samples_s) == 0
    assert latency.unanswered == CommandLatency.ANSWER_WINDOW - 1


def test_states_published_before_the_first_command_are_unheard_not_late() -> None:
    """The sim publishes before the filter subscribed: those states reach no one. Pairing the
    first answer with them would make every later answer late by one period (issue 13)."""
    latency = CommandLatency()
    latency.state_published(0.0)  # nobody listening yet
    latency.state_published(0.05)  # after a step_timeout, still nobody
    assert latency.command_arrived(0.0504)  # the filter answers the newest: the loop is closed
    for k in range(1, 4):
        latency.state_published(0.05 + k * 0.001)
        assert latency.command_arrived(0.05 + k * 0.001 + 0.0004)
    assert (latency.late, latency.unheard, latency.unanswered) == (0, 1, 0)
    np.testing.assert_allclose(latency.samples_s.values(), [0.0004] * 4, atol=1e-12)


def test_a_late_answer_is_not_the_answer_to_the_newest_state_and_resync_forgets() -> None:
    latency = CommandLatency()
    latency.state_published(1.0)
    assert latency.command_arrived(1.0003)
    latency.state_published(2.0)
    latency.state_published(2.05)  # the sim gave up waiting for the answer to 2.0
    assert not latency.command_arrived(2.06)  # the late answer to 2.0: the sim holds it
    assert latency.command_arrived(2.0504 + 0.01)  # the answer to 2.05: the sim steps
    assert latency.late == 1
    latency.state_published(3.0)
    latency.state_published(3.05)  # a state lost mid-run
    latency.command_arrived(3.0504)  # paired with 3.0, though it answers 3.05
    assert latency.answered_since_publish  # the sim sees this when it waits in vain and resyncs
    latency.resync()
    assert latency.unanswered == 0 and latency.unheard == 1
