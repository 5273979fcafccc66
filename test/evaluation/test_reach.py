"""Reach metrics on synthetic runs whose right answers are known by construction."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ltc_control.evaluation.reach import Span, score_segments, spans, summarize_scores

DT = 0.01


def times(duration: float) -> np.ndarray:
    return np.arange(round(duration / DT)) * DT


def test_exponential_approach_is_reached_when_the_error_first_drops_below_5cm():
    t = times(3.0)
    errors = 0.4 * np.exp(-t / 0.5)  # 5 cm at t = 0.5 ln 8 = 1.0397 s, 2 cm at 1.498 s
    [score] = score_segments(t, errors, [Span(0.0, 3.0, "hold", "reachable")])
    assert score.judged and score.reached == (True, True)
    assert score.time_to_reach_s == pytest.approx(0.5 * np.log(8.0), abs=DT)
    assert score.final_error_m == pytest.approx(errors[-1])


def test_time_to_reach_counts_from_the_last_entry_into_the_5cm_ball():
    t = times(2.0)
    errors = np.full(len(t), 0.01)
    errors[:30] = 0.2  # in at 0.30 s
    errors[100:110] = 0.08  # out again from 1.00 s to 1.10 s: reached for good at 1.10 s
    [score] = score_segments(t, errors, [Span(0.0, 2.0, "hold", "reachable")])
    assert score.time_to_reach_s == pytest.approx(1.10)
    assert score.reached == (True, True)


def test_a_hold_that_stalls_short_is_not_reached():
    t = times(2.0)
    errors = 0.03 + 0.3 * np.exp(-t / 0.2)  # settles 3 cm off: within 5 cm, not within 2 cm
    stalled = 0.12 + 0.0 * t
    holds = [Span(0.0, 2.0, "hold", "reachable")]
    [partly] = score_segments(t, errors, holds)
    [never] = score_segments(t, stalled, holds)
    assert partly.reached == (True, False) and partly.time_to_reach_s is not None
    assert never.reached == (False, False) and never.time_to_reach_s is None
    summary = summarize_scores([partly, never])
    assert summary["holds"] == 2
    assert summary["reach5"] == 0.5 and summary["reach2"] == 0.0
    assert summary["final_error_median_m"] == pytest.approx((0.03 + 0.12) / 2, abs=1e-4)


def test_a_hold_cut_by_the_end_of_the_run_is_not_judged():
    t = times(3.5)
    errors = np.full(len(t), 0.3)  # far off everywhere: judged holds would count as misses
    run = [SimpleNamespace(start=0.0, kind="hold", label="reachable")]
    run.append(SimpleNamespace(start=3.0, kind="hold", label="reachable"))
    scores = score_segments(t, errors, spans(run, end=3.5), min_hold_s=1.0)
    assert [s.judged for s in scores] == [True, False]
    summary = summarize_scores(scores)
    assert summary["holds"] == 1 and summary["holds_unjudged"] == 1
    assert summary["reach5"] == 0.0


def test_moving_segments_report_tracking_rmse_after_the_approach():
    t = times(2.0)
    lag = np.where(t < 0.5, 0.5, 0.04)  # a big approach, then a steady 4 cm lag
    [score] = score_segments(t, lag, [Span(0.0, 2.0, "circle", "reachable")], settle_s=0.5)
    assert score.category == "moving"
    assert score.tracking_rmse_m == pytest.approx(0.04)
    other = score_segments(t, 0.5 * lag, [Span(0.0, 2.0, "line", "reachable")], settle_s=0.5)
    summary = summarize_scores([score, *other])
    assert summary["moving_segments"] == 2
    assert summary["moving_rmse_m"] == pytest.approx(np.sqrt((0.04**2 + 0.02**2) / 2))
    assert summary["holds"] == 0 and summary["reach5"] is None  # no holds: no rate at all


def test_moving_tracking_proper_counts_from_the_catch_not_from_a_fixed_settle_time():
    """A slow approach (1.2 s, longer than settle_s) then a 1 cm lag: the settle-time RMSE is
    dominated by the approach, the caught RMSE is the lag; a segment never caught has none."""
    t = times(2.0)
    approach = np.where(t < 1.2, 0.3, 0.01)
    [slow] = score_segments(t, approach, [Span(0.0, 2.0, "line", "reachable")], settle_s=0.5)
    assert slow.tracking_rmse_m > 0.2
    assert slow.caught_s == pytest.approx(1.2) and slow.caught_rmse_m == pytest.approx(0.01)
    [never] = score_segments(t, np.full(len(t), 0.08), [Span(0.0, 2.0, "circle", "reachable")])
    assert never.caught_s is None and never.caught_rmse_m is None
    summary = summarize_scores([slow, never])
    assert summary["moving_caught_rate"] == 0.5
    assert summary["moving_caught_rmse_m"] == pytest.approx(0.01)


def test_unreachable_targets_score_the_closest_approach_and_violations():
    t = times(2.0)
    errors = 0.3 - 0.1 * np.sin(np.pi * t / 2.0)  # closest 0.2 m at t = 1 s
    violations = np.zeros(len(t), int)
    violations[150] = 3
    segment = [Span(0.0, 2.0, "hold", "below_table")]
    [score] = score_segments(t, errors, segment, violations)
    assert score.category == "unreachable"
    assert score.closest_approach_m == pytest.approx(0.2, abs=1e-4)
    assert score.violations == 3 and not score.clean
    [clean] = score_segments(t, errors, [Span(0.0, 2.0, "hold", "out_of_reach")])
    assert clean.clean
    summary = summarize_scores([score, clean])
    assert summary["unreachable_segments"] == 2 and summary["unreachable_clean_rate"] == 0.5
    assert summary["holds"] == 0


def test_segments_split_the_run_at_their_starts():
    t = times(4.0)
    errors = np.where(t < 2.0, 0.01, 0.3)  # first hold reached, second missed
    run = [
        SimpleNamespace(start=0.0, kind="hold", label="reachable"),
        SimpleNamespace(start=2.0, kind="hold", label="reachable"),
    ]
    scores = score_segments(t, errors, spans(run, end=4.0))
    assert [s.reached for s in scores] == [(True, True), (False, False)]
    assert [s.duration for s in scores] == [2.0, 2.0]


def test_mismatched_arrays_are_refused():
    with pytest.raises(ValueError, match="equal 1-D"):
        score_segments(times(1.0), np.zeros(3), [Span(0.0, 1.0, "hold", "reachable")])
