"""Curate demonstrations for diversity: drop broken samples, split at gaps, balance coverage.

`curate(trajectories, robot=None, config=CurationConfig())` returns the kept pieces and a
CurationReport that counts every dropped sample by reason:
- "nonfinite": a row holding NaN/inf in any array;
- "duplicate": a row repeating the previous row exactly (same stamp, same values);
- "time_not_increasing": a row stamped at or before an earlier row (but not a duplicate);
- "duplicate_episode": a whole piece identical to an earlier one;
- "too_short": a piece with fewer than min_samples rows (after the other steps);
- "over_represented": windows removed by balancing (below).
A gap longer than max_gap_s splits a trajectory (counted in `splits["gap"]`); removing single rows
does not (the LTC/CfC models take the irregular dt). Pieces keep their rows' times shifted to
start at 0; info["t_offset"] is the shift (s).

Coverage: every row maps to a cell of a grid with `bins` bins per dimension over the joint
positions normalized by the joint limits and the target normalized by the bounds of the robot's
reachable workspace (values outside clip to the edge bins). Balancing cuts pieces into windows of
`window` rows, puts each window in the cell of its mean, and drops randomly chosen (seeded)
windows from cells holding more than `balance` times the mean number of windows per occupied cell.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ltc_control.data.errors import DataError
from ltc_control.data.trajectory import TRAJECTORY_ARRAYS, Trajectory
from ltc_control.robots import RobotDescription, load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.sim.workspace import Workspace

DROP_REASONS = (
    "nonfinite",
    "duplicate",
    "time_not_increasing",
    "duplicate_episode",
    "too_short",
    "over_represented",
)


@dataclass(frozen=True)
class CurationConfig:
    max_gap_s: float = 0.1  # s; a longer gap between rows splits the trajectory
    min_samples: int = 20  # rows; shorter pieces are dropped
    bins: int = 3  # per dimension of the coverage grid
    window: int = 20  # rows per balancing window
    balance: float | None = 2.0  # cap on windows per cell, x mean per occupied cell; None: off
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.max_gap_s > 0.0 or self.min_samples < 1 or self.bins < 1 or self.window < 1:
            raise DataError(f"invalid curation config {self}")
        if self.balance is not None and not self.balance >= 1.0:
            raise DataError(f"balance must be >= 1 (or None), got {self.balance}")


@dataclass(frozen=True)
class Coverage:
    samples: int
    occupied_cells: int
    total_cells: int
    per_dimension: dict[str, float]  # fraction of the bins used, per dimension
    evenness: float  # normalized entropy of rows over occupied cells: 1 = all equally full
    max_cell_share: float  # fraction of rows in the fullest cell


@dataclass(frozen=True)
class CurationReport:
    input_trajectories: int
    output_trajectories: int
    input_samples: int
    kept_samples: int
    dropped: dict[str, int]  # reason -> rows (every reason in DROP_REASONS is present)
    splits: dict[str, int]  # reason -> number of cuts
    coverage_before: Coverage
    coverage_after: Coverage

    def summary(self) -> str:
        lines = [
            f"trajectories {self.input_trajectories} -> {self.output_trajectories}, "
            f"samples {self.input_samples} -> {self.kept_samples}",
            *(f"  dropped {reason}: {count}" for reason, count in self.dropped.items()),
            *(f"  split at {reason}: {count}" for reason, count in self.splits.items()),
        ]
        for name, cov in (("before", self.coverage_before), ("after", self.coverage_after)):
            lines.append(
                f"  coverage {name}: {cov.occupied_cells}/{cov.total_cells} cells, "
                f"evenness {cov.evenness:.3f}, fullest cell {cov.max_cell_share:.1%}"
            )
        return "\n".join(lines)


class CoverageGrid:
    """Maps rows (q, target) to grid cells over normalized joint and target space."""

    def __init__(self, robot: RobotDescription, bins: int) -> None:
        workspace = Workspace.of(PinocchioDynamics(robot))
        self.bins = bins
        self.names = (*robot.joint_names, "target/x", "target/y", "target/z")
        self.lower = np.concatenate([robot.limits.lower, workspace.reachable.min(axis=0)])
        self.upper = np.concatenate([robot.limits.upper, workspace.reachable.max(axis=0)])

    def features(self, trajectory: Trajectory) -> np.ndarray:
        """Rows normalized to [0, 1] per dimension (a zero-width dimension maps to 0)."""
        values = np.hstack([trajectory.q, trajectory.target])
        width = np.where(self.upper - self.lower > 1e-9, self.upper - self.lower, np.inf)
        return np.clip((values - self.lower) / width, 0.0, 1.0)

    def cells(self, features: np.ndarray) -> np.ndarray:
        """(n, dims) integer bin indices."""
        return np.minimum((features * self.bins).astype(int), self.bins - 1)

    def coverage(self, trajectories: list[Trajectory]) -> Coverage:
        dims = len(self.names)
        if not trajectories or not any(len(t) for t in trajectories):
            return Coverage(0, 0, self.bins**dims, dict.fromkeys(self.names, 0.0), 0.0, 0.0)
        features = np.vstack([self.features(t) for t in trajectories])
        cells = self.cells(features[np.all(np.isfinite(features), axis=1)])  # broken rows: none
        if len(cells) == 0:
            return self.coverage([])
        _, counts = np.unique(cells, axis=0, return_counts=True)
        shares = counts / counts.sum()
        entropy = float(-(shares * np.log(shares)).sum())
        return Coverage(
            samples=int(counts.sum()),
            occupied_cells=len(counts),
            total_cells=self.bins**dims,
            per_dimension={
                name: len(np.unique(cells[:, i])) / self.bins for i, name in enumerate(self.names)
            },
            evenness=entropy / np.log(len(counts)) if len(counts) > 1 else 1.0,
            max_cell_share=float(shares.max()),
        )


@dataclass
class _Tally:
    dropped: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)


def curate(
    trajectories: list[Trajectory],
    robot: RobotDescription | str | None = None,
    config: CurationConfig | None = None,
) -> tuple[list[Trajectory], CurationReport]:
    """Clean and balance trajectories of one robot; see the module docstring."""
    config = config if config is not None else CurationConfig()
    if not trajectories:
        raise DataError("curate needs at least one trajectory")
    robot = _robot(trajectories, robot)
    grid = CoverageGrid(robot, config.bins)
    tally = _Tally()
    pieces = []
    for trajectory in trajectories:
        pieces += _split_at_gaps(_clean_rows(trajectory, tally), config.max_gap_s, tally)
    pieces = _drop_duplicate_episodes(pieces, tally)
    pieces = _drop_short(pieces, config.min_samples, tally)
    if config.balance is not None:
        pieces = _drop_short(_balance(pieces, grid, config, tally), config.min_samples, tally)
    pieces = [_rebase_time(piece) for piece in pieces]
    report = CurationReport(
        input_trajectories=len(trajectories),
        output_trajectories=len(pieces),
        input_samples=sum(len(t) for t in trajectories),
        kept_samples=sum(len(p) for p in pieces),
        dropped={reason: tally.dropped[reason] for reason in DROP_REASONS},
        splits=dict(tally.splits),
        coverage_before=grid.coverage(trajectories),
        coverage_after=grid.coverage(pieces),
    )
    return pieces, report


def _robot(trajectories: list[Trajectory], robot: RobotDescription | str | None):
    names = {(t.robot, t.joint_names) for t in trajectories}
    if len(names) != 1:
        raise DataError(
            f"curate needs trajectories of one robot, got {sorted(n for n, _ in names)}"
        )
    if isinstance(robot, RobotDescription):
        return robot
    return load_robot_description(robot if robot is not None else trajectories[0].robot)


def _clean_rows(trajectory: Trajectory, tally: _Tally) -> Trajectory:
    arrays = [getattr(trajectory, name).reshape(len(trajectory), -1) for name in TRAJECTORY_ARRAYS]
    finite = np.all(np.isfinite(np.hstack(arrays)), axis=1)
    tally.dropped["nonfinite"] += int((~finite).sum())
    kept = trajectory.slice(finite)
    t = kept.t
    earlier_max = np.maximum.accumulate(np.concatenate(([-np.inf], t[:-1])))
    late = t <= earlier_max
    rows = np.hstack([getattr(kept, n).reshape(len(kept), -1) for n in TRAJECTORY_ARRAYS])
    repeats = np.zeros(len(kept), dtype=bool)
    repeats[1:] = np.all(rows[1:] == rows[:-1], axis=1)
    duplicate = late & repeats
    tally.dropped["duplicate"] += int(duplicate.sum())
    tally.dropped["time_not_increasing"] += int((late & ~duplicate).sum())
    return kept.slice(~late)


def _split_at_gaps(trajectory: Trajectory, max_gap_s: float, tally: _Tally) -> list[Trajectory]:
    if len(trajectory) == 0:
        return []
    cuts = np.flatnonzero(np.diff(trajectory.t) > max_gap_s) + 1
    tally.splits["gap"] += len(cuts)
    return [trajectory.slice(rows) for rows in np.split(np.arange(len(trajectory)), cuts)]


def _fingerprint(trajectory: Trajectory) -> str:
    digest = hashlib.sha256()
    for name in TRAJECTORY_ARRAYS[1:]:  # the same motion recorded at another time is a copy
        digest.update(np.ascontiguousarray(getattr(trajectory, name)).tobytes())
    return digest.hexdigest()


def _drop_duplicate_episodes(pieces: list[Trajectory], tally: _Tally) -> list[Trajectory]:
    seen, kept = set(), []
    for piece in pieces:
        key = _fingerprint(piece)
        if key in seen:
            tally.dropped["duplicate_episode"] += len(piece)
        else:
            seen.add(key)
            kept.append(piece)
    return kept


def _drop_short(pieces: list[Trajectory], min_samples: int, tally: _Tally) -> list[Trajectory]:
    tally.dropped["too_short"] += sum(len(p) for p in pieces if len(p) < min_samples)
    return [p for p in pieces if len(p) >= min_samples]


def _balance(
    pieces: list[Trajectory], grid: CoverageGrid, config: CurationConfig, tally: _Tally
) -> list[Trajectory]:
    windows = []  # (piece index, window index within the piece, cell)
    for p, piece in enumerate(pieces):
        features = grid.features(piece)
        for w, rows in enumerate(_windows(len(piece), config.window)):
            cell = tuple(grid.cells(features[rows].mean(axis=0, keepdims=True))[0])
            windows.append((p, w, cell))
    counts = Counter(cell for _, _, cell in windows)
    cap = int(np.ceil(config.balance * len(windows) / len(counts)))
    rng = np.random.default_rng(config.seed)
    dropped: set[tuple[int, int]] = set()
    for cell, count in counts.items():
        members = [(p, w) for p, w, c in windows if c == cell]
        if count > cap:
            for i in rng.choice(count, count - cap, replace=False):
                dropped.add(members[i])
    result = []
    for p, piece in enumerate(pieces):
        keep = np.ones(len(piece), dtype=bool)
        for w, rows in enumerate(_windows(len(piece), config.window)):
            keep[rows] = (p, w) not in dropped
        tally.dropped["over_represented"] += int((~keep).sum())
        result += _runs(piece, keep, tally)
    return result


def _windows(n: int, size: int) -> list[np.ndarray]:
    """Consecutive row ranges of `size` rows; the remainder joins the last window."""
    starts = list(range(0, max(n - size, 0) + 1, size)) if n >= size else [0]
    ends = [*starts[1:], n]
    return [np.arange(a, b) for a, b in zip(starts, ends, strict=True)]


def _runs(piece: Trajectory, keep: np.ndarray, tally: _Tally) -> list[Trajectory]:
    """The maximal runs of kept rows, as separate pieces (a dropped window splits)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], keep.astype(int), [0]))))
    runs = [piece.slice(slice(a, b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    tally.splits["balancing"] += max(len(runs) - 1, 0)
    return runs


def _rebase_time(piece: Trajectory) -> Trajectory:
    offset = float(piece.t[0])
    rebased = piece.slice(slice(None))
    rebased.t = piece.t - offset
    rebased.info = {**piece.info, "t_offset": float(piece.info.get("t_offset", 0.0)) + offset}
    return rebased
