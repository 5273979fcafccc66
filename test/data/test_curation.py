"""Curation drops exactly the broken samples, splits at gaps, and balances coverage."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.data import DROP_REASONS, CoverageGrid, CurationConfig, DataError, curate
from ltc_control.data.trajectory import Trajectory
from ltc_control.robots import load_robot_description

ROBOT = load_robot_description("double_pendulum")


def _trajectory(q: np.ndarray, target: np.ndarray | None = None, period: float = 0.01):
    n = len(q)
    target = np.tile([0.03, 0.1, 0.1], (n, 1)) if target is None else target
    return Trajectory(
        robot=ROBOT.name,
        joint_names=ROBOT.joint_names,
        t=np.arange(n) * period,
        q=q,
        v=np.gradient(q, axis=0) / period,
        target=target,
        ee_position=np.zeros((n, 3)),
        tau=0.1 * q,
    )


def _sweep(n: int, start: float, seed: int) -> Trajectory:
    rng = np.random.default_rng(seed)
    q = start + np.cumsum(rng.normal(0.0, 0.02, (n, 2)), axis=0)
    return _trajectory(q)


def _concat(*pieces: Trajectory) -> Trajectory:
    names = ("t", "q", "v", "target", "ee_position", "tau")
    arrays = {name: np.concatenate([getattr(p, name) for p in pieces]) for name in names}
    return Trajectory(robot=ROBOT.name, joint_names=ROBOT.joint_names, **arrays)


def test_drops_exactly_the_injected_broken_samples():
    clean = _sweep(200, 0.0, seed=1)
    broken = clean.slice(slice(None))
    broken.q, broken.t = clean.q.copy(), clean.t.copy()
    broken.q[[10, 50, 51], 0] = np.nan  # 3 non-finite rows
    broken.t[120:] += 1.0  # one gap of ~1 s: split, nothing dropped
    with_repeats = _concat(
        broken.slice(slice(0, 80)),
        broken.slice(slice(79, 80)),  # exact re-publish of row 79
        broken.slice(slice(79, 80)),  # and again
        broken.slice(slice(80, 200)),
    )
    late = with_repeats.slice(slice(None))
    late.t = with_repeats.t.copy()
    late.t[150] = late.t[140]  # stamped in the past, different values
    other = _sweep(150, 1.0, seed=2)
    copy = other.slice(slice(None))
    copy.t = other.t + 5.0  # the same motion recorded again later
    short = _sweep(10, -1.0, seed=3)
    config = CurationConfig(balance=None, min_samples=20, max_gap_s=0.1)
    pieces, report = curate([late, other, copy, short], config=config)
    assert report.dropped == {
        "nonfinite": 3,
        "duplicate": 2,
        "time_not_increasing": 1,
        "duplicate_episode": 150,
        "too_short": 10,
        "over_represented": 0,
    }
    assert report.splits["gap"] == 1
    assert report.input_samples == 202 + 150 + 150 + 10
    assert report.kept_samples == report.input_samples - sum(report.dropped.values())
    assert report.kept_samples == sum(len(p) for p in pieces) == 196 + 150
    assert len(pieces) == 3
    for piece in pieces:
        assert piece.t[0] == 0.0 and np.all(np.diff(piece.t) > 0.0)
        assert np.all(np.isfinite(piece.q)) and np.all(piece.dt <= 0.1)
    assert pieces[1].info["t_offset"] == pytest.approx(clean.t[120] + 1.0)
    assert set(report.dropped) == set(DROP_REASONS)
    assert "duplicate_episode: 150" in report.summary()


def test_coverage_counts_cells_of_the_normalized_grid():
    grid = CoverageGrid(ROBOT, bins=2)
    lower, upper = ROBOT.limits.lower, ROBOT.limits.upper
    corners = np.array([lower + 0.1, upper - 0.1, [lower[0] + 0.1, upper[1] - 0.1]])
    coverage = grid.coverage([_trajectory(np.repeat(corners, [10, 10, 20], axis=0))])
    assert coverage.occupied_cells == 3
    assert coverage.total_cells == 2**5
    assert coverage.per_dimension["joint1"] == 1.0 and coverage.per_dimension["target/x"] == 0.5
    assert coverage.max_cell_share == pytest.approx(0.5)
    assert 0.9 < coverage.evenness < 1.0


def test_balancing_thins_over_represented_cells_only():
    still = _trajectory(np.tile([0.05, 0.05], (2000, 1)) + np.arange(2000)[:, None] * 1e-7)
    sweeps = [_sweep(100, start, seed=i) for i, start in enumerate((-2.0, -1.0, 1.0, 2.0))]
    config = CurationConfig(balance=1.5, window=20, min_samples=20)
    pieces, report = curate([still, *sweeps], config=config)
    before, after = report.coverage_before, report.coverage_after
    assert report.dropped["over_represented"] > 1000
    assert after.max_cell_share < before.max_cell_share
    assert after.evenness > before.evenness
    assert after.occupied_cells == before.occupied_cells
    kept_sweeps = [p for p in pieces if abs(p.q[0, 0] - 0.05) > 0.5]
    assert sum(len(p) for p in kept_sweeps) == 400  # the diverse data is untouched
    again, _ = curate([still, *sweeps], config=config)
    assert all(a.equals(b) for a, b in zip(pieces, again, strict=True))


def test_rejects_mixed_robots_and_bad_config():
    panda = load_robot_description("panda")
    other = Trajectory(
        robot="panda",
        joint_names=panda.joint_names,
        t=np.zeros(1),
        q=np.zeros((1, 7)),
        v=np.zeros((1, 7)),
        target=np.zeros((1, 3)),
        ee_position=np.zeros((1, 3)),
        tau=np.zeros((1, 7)),
    )
    with pytest.raises(DataError, match="one robot"):
        curate([_sweep(30, 0.0, 1), other])
    with pytest.raises(DataError):
        CurationConfig(balance=0.5)
    with pytest.raises(DataError):
        curate([])
