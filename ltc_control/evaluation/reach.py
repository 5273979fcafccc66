"""Reach metrics: did the end effector get to each target, how fast, and how close.

Pure functions on sampled arrays (no simulator, no ROS): the closed-loop evaluator, the control
benchmark and the demo summary score runs with them. Inputs per run: sample times t (s), the
end-effector distance to the current target at each sample (m), and the target segments as
spans [start, end) with a kind and a label (sim.task: "hold", "circle", "line"; "reachable",
"below_table", "out_of_reach").

Per segment (every one also gets its final error, at its last sample):
- a reachable hold: the final error (m, at the last sample before the segment ends), reached
  within REACH_RADII (5 cm, 2 cm) at that instant, and the time to reach (s from the segment
  start to the first sample from which the error stays within 5 cm until the end; None if it
  never settles). A hold shorter than `min_hold_s` (cut by the end of the run) is not judged:
  it says nothing about reaching.
- a moving reachable target (circle, line): tracking RMSE (m) over its samples after the first
  `settle_s` (the approach to the moving point is a reach, not tracking); and, once the arm
  first came within 5 cm of the moving point (`caught_s`, None if it never did), the RMSE from
  then on (`caught_rmse_m`): tracking proper, the lag a policy that infers the target's motion
  from the stream of positions (memory) can shrink, without the approach that dominates the
  first (on the Panda a far moving point takes longer than `settle_s` to catch).
- an unreachable target (below the table, out of reach): the closest approach (m, smallest
  error over the segment's samples) and whether the segment had no limit violation (`clean`):
  the arm should get as close as it can without breaking anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

REACH_RADII = (0.05, 0.02)  # m: "reached" and "reached precisely"
MIN_HOLD_S = 1.0  # s: shorter holds (cut by the end of a run) are not judged
SETTLE_S = 0.5  # s: start of a moving segment left out of its tracking RMSE


class Segment(Protocol):
    """What a target segment must tell (sim.task.TargetSegment has these)."""

    start: float
    kind: str
    label: str


@dataclass(frozen=True)
class Span:
    start: float  # s
    end: float  # s, exclusive
    kind: str  # "hold", "circle" or "line"
    label: str  # "reachable", "below_table" or "out_of_reach"

    @property
    def category(self) -> str:
        """'hold' (reachable hold), 'moving' (reachable, moving) or 'unreachable'."""
        if self.label != "reachable":
            return "unreachable"
        return "hold" if self.kind == "hold" else "moving"


@dataclass(frozen=True)
class SegmentScore:
    category: str  # see Span.category
    start: float  # s
    duration: float  # s
    judged: bool  # False: a hold cut short by the end of the run (not scored)
    final_error_m: float  # at the segment's last sample
    reached: tuple[bool, ...] | None = None  # per REACH_RADII, at the end of a reachable hold
    time_to_reach_s: float | None = None  # first time within REACH_RADII[0] and staying
    tracking_rmse_m: float | None = None  # moving targets, after SETTLE_S
    caught_s: float | None = None  # moving targets: first time within REACH_RADII[0]
    caught_rmse_m: float | None = None  # moving targets: RMSE from caught_s on
    closest_approach_m: float | None = None  # unreachable targets
    violations: int = 0  # limit checks broken during the segment
    clean: bool = True  # no violation during the segment

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def spans(segments: Sequence[Segment], end: float) -> list[Span]:
    """Spans of consecutive segments; the last one ends at `end` (s, the end of the run)."""
    ends = [s.start for s in segments[1:]] + [end]
    return [Span(s.start, e, s.kind, s.label) for s, e in zip(segments, ends, strict=True)]


def score_segments(
    t: np.ndarray,
    errors: np.ndarray,
    segment_spans: Sequence[Span],
    violations: np.ndarray | None = None,
    min_hold_s: float = MIN_HOLD_S,
    settle_s: float = SETTLE_S,
) -> list[SegmentScore]:
    """One score per span with at least one sample. `errors[i]` (m) is the distance to the
    target at `t[i]` (s); `violations[i]` counts limit checks broken after sample i (until the
    next sample), zeros if not given."""
    t, errors = np.asarray(t, dtype=float), np.asarray(errors, dtype=float)
    if t.shape != errors.shape or t.ndim != 1:
        raise ValueError(f"t and errors must be equal 1-D arrays, got {t.shape}, {errors.shape}")
    broken = np.zeros(len(t), int) if violations is None else np.asarray(violations, dtype=int)
    scores = []
    for span in segment_spans:
        inside = (t >= span.start) & (t < span.end)
        if inside.any():
            scores.append(
                _score(span, t[inside], errors[inside], broken[inside], min_hold_s, settle_s)
            )
    return scores


def _score(
    span: Span,
    t: np.ndarray,
    errors: np.ndarray,
    broken: np.ndarray,
    min_hold_s: float,
    settle_s: float,
) -> SegmentScore:
    category, duration = span.category, span.end - span.start
    common = {
        "category": category,
        "start": span.start,
        "duration": duration,
        "final_error_m": float(errors[-1]),
        "violations": int(broken.sum()),
        "clean": not broken.any(),
    }
    if category == "unreachable":
        return SegmentScore(judged=True, closest_approach_m=float(errors.min()), **common)
    if category == "moving":
        tracked = errors[t - span.start >= settle_s]
        rmse = float(np.sqrt(np.mean(tracked**2))) if len(tracked) else None
        inside = np.flatnonzero(errors <= REACH_RADII[0])
        caught = {}
        if len(inside):
            after = errors[inside[0] :]
            caught = {
                "caught_s": float(t[inside[0]] - span.start),
                "caught_rmse_m": float(np.sqrt(np.mean(after**2))),
            }
        return SegmentScore(judged=rmse is not None, tracking_rmse_m=rmse, **caught, **common)
    if duration < min_hold_s:
        return SegmentScore(judged=False, **common)
    return SegmentScore(
        judged=True,
        reached=tuple(bool(errors[-1] <= radius) for radius in REACH_RADII),
        time_to_reach_s=_time_to_reach(t - span.start, errors, REACH_RADII[0]),
        **common,
    )


def _time_to_reach(elapsed: np.ndarray, errors: np.ndarray, radius: float) -> float | None:
    """Elapsed time of the first sample from which every error is within `radius`."""
    outside = np.flatnonzero(errors > radius)
    if len(outside) == 0:
        return float(elapsed[0])
    first_inside_for_good = outside[-1] + 1
    if first_inside_for_good == len(errors):
        return None
    return float(elapsed[first_inside_for_good])


def summarize_scores(scores: Sequence[SegmentScore]) -> dict[str, float | int | None]:
    """Pooled over segments (of one or many runs). Rates are fractions of judged reachable
    holds; medians are None where nothing was measured.

    Keys: holds, holds_unjudged, reach5, reach2, final_error_median_m, final_error_p90_m,
    time_to_reach_median_s (over holds that settled), moving_segments, moving_rmse_m (root mean
    square of the moving segments' RMSEs: every segment weighs the same), moving_caught_rate
    (fraction of them the arm came within 5 cm of), moving_caught_rmse_m (root mean square of
    the caught segments' RMSEs from the catch on), unreachable_segments,
    unreachable_closest_median_m, unreachable_clean_rate.
    """
    holds = [s for s in scores if s.category == "hold" and s.judged]
    moving = [s for s in scores if s.category == "moving" and s.judged]
    unreachable = [s for s in scores if s.category == "unreachable"]
    finals = np.array([s.final_error_m for s in holds])
    times = [s.time_to_reach_s for s in holds if s.time_to_reach_s is not None]
    rmses = np.array([s.tracking_rmse_m for s in moving])
    caught = np.array([s.caught_rmse_m for s in moving if s.caught_rmse_m is not None])
    closest = np.array([s.closest_approach_m for s in unreachable])
    summary: dict[str, float | int | None] = {
        "holds": len(holds),
        "holds_unjudged": sum(1 for s in scores if s.category == "hold" and not s.judged),
    }
    for i, radius in enumerate(REACH_RADII):
        rate = np.mean([s.reached[i] for s in holds]) if holds else None
        summary[f"reach{round(radius * 100)}"] = None if rate is None else float(rate)
    summary |= {
        "final_error_median_m": _median(finals),
        "final_error_p90_m": float(np.percentile(finals, 90)) if len(finals) else None,
        "time_to_reach_median_s": _median(np.array(times)),
        "moving_segments": len(moving),
        "moving_rmse_m": _root_mean_square(rmses),
        "moving_caught_rate": len(caught) / len(moving) if moving else None,
        "moving_caught_rmse_m": _root_mean_square(caught),
        "unreachable_segments": len(unreachable),
        "unreachable_closest_median_m": _median(closest),
        "unreachable_clean_rate": (
            float(np.mean([s.clean for s in unreachable])) if unreachable else None
        ),
    }
    return summary


def _root_mean_square(values: np.ndarray) -> float | None:
    return float(np.sqrt(np.mean(values**2))) if len(values) else None


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None
