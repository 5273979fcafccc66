"""From trajectories to training tensors: named policy inputs/outputs, normalization, episode batches.

Promises:
- Inputs follow `runtime.signals.policy_input_names` (q rad, v rad/s, target m, then model
  senses such as ee_error m), built by the deployed `ObservationLayout`, and outputs
  `policy_output_names` (effort_over_gravity N·m = recorded torque - g(q_measured) of the nominal
  model, the quantity `PolicyController` adds g(q) back to).
- Elapsed times are the real differences between sample stamps (s); the first sample of an
  episode gets `first_dt` (the controller's nominal period), as the deployed StampClock does.
- Normalization: z = (x - mean) / std per signal, with std floored at `STD_FLOOR` (a constant
  signal, e.g. a planar arm's out-of-plane target axis, must not blow up small deviations);
  normalized labels are clipped to ±LABEL_CLIP so rare saturated torque spikes (target jumps,
  DAgger states far off) do not dominate the squared loss.
- `EpisodeBatches` cuts episodes into consecutive windows for truncated BPTT: a batch holds the
  same window index of several episodes, so the hidden state is carried between windows exactly
  as the deployed controller carries it along an episode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ltc_control.data.trajectory import Trajectory
from ltc_control.runtime.signals import (
    EE_ACCELERATION,
    EFFORT_OVER_GRAVITY,
    ObservationLayout,
    policy_input_names,
    policy_output_names,
    signal_unit,
)
from ltc_control.training.errors import TrainingDataError

STD_FLOOR = 1e-2
LABEL_CLIP = 5.0  # normalized output labels are clipped to +-5 std (rare saturated spikes)


@dataclass
class Episode:
    """One trajectory as policy arrays: inputs (n, n_in), outputs (n, n_out), dt (n,) s, and
    `extra` (n, k) raw per-sample quantities a loss may need (BarrierNet: M, h, g), k may be 0."""

    inputs: np.ndarray
    outputs: np.ndarray
    dt: np.ndarray
    extra: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.extra is None:
            self.extra = np.zeros((len(self.dt), 0))

    def __len__(self) -> int:
        return len(self.dt)


def episode_from_trajectory(
    trajectory: Trajectory,
    gravity: Callable[[np.ndarray], np.ndarray],
    first_dt: float,
    extra: Callable[[Trajectory], np.ndarray] | None = None,
    layout: ObservationLayout | None = None,
    labels: Callable[[Trajectory], np.ndarray] | None = None,
) -> Episode:
    """Policy inputs (by `layout`; default: q, v, target), output labels (`labels(trajectory)`
    -> (n, n_out); default: the recorded torque over gravity) and elapsed times of one
    trajectory; `extra(trajectory)` -> (n, k) fills Episode.extra."""
    if len(trajectory) < 2:
        raise TrainingDataError(f"trajectory of {trajectory.robot} has fewer than 2 samples")
    dt = trajectory.dt.copy()
    dt[0] = first_dt
    if not np.all(dt > 0.0):
        raise TrainingDataError("trajectory stamps are not strictly increasing")
    if layout is None:
        layout = ObservationLayout(
            policy_input_names(trajectory.joint_names), trajectory.joint_names
        )
    inputs = np.array(
        [
            layout.build(q, v, target)
            for q, v, target in zip(trajectory.q, trajectory.v, trajectory.target, strict=True)
        ]
    )
    if labels is not None:
        residual = np.asarray(labels(trajectory), dtype=float)
    else:
        residual = trajectory.tau - np.array([gravity(q) for q in trajectory.q])
    rows = None if extra is None else np.asarray(extra(trajectory), dtype=float)
    return Episode(inputs=inputs, outputs=residual, dt=dt, extra=rows)


def signal_names(
    joint_names: Sequence[str], senses: Sequence[str] = (), action: str = EFFORT_OVER_GRAVITY
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Input names, input units, output names, output units of every trained policy."""
    inputs = policy_input_names(joint_names, senses)
    units = [signal_unit(name) for name in inputs]
    outputs = policy_output_names(joint_names, action)
    unit = "m/s^2" if action == EE_ACCELERATION else "N*m"
    return inputs, units, outputs, [unit] * len(outputs)


@dataclass(frozen=True)
class Normalizer:
    """Per-signal affine normalization of inputs and outputs (raw units <-> model space)."""

    input_mean: np.ndarray
    input_std: np.ndarray
    output_mean: np.ndarray
    output_std: np.ndarray

    @classmethod
    def fit(cls, episodes: Sequence[Episode]) -> Normalizer:
        inputs = np.vstack([e.inputs for e in episodes])
        outputs = np.vstack([e.outputs for e in episodes])
        return cls(
            inputs.mean(axis=0),
            np.maximum(inputs.std(axis=0), STD_FLOOR),
            outputs.mean(axis=0),
            np.maximum(outputs.std(axis=0), STD_FLOOR),
        )

    def normalize(self, episode: Episode) -> Episode:
        return Episode(
            inputs=(episode.inputs - self.input_mean) / self.input_std,
            outputs=np.clip(
                (episode.outputs - self.output_mean) / self.output_std, -LABEL_CLIP, LABEL_CLIP
            ),
            dt=episode.dt,
            extra=episode.extra,
        )


class EpisodeBatches:
    """Batches of `batch_size` episodes of similar length (cropped to the shortest), cut into
    `window`-sample chunks. Iterating yields lists of chunks (x (B, W, n_in), y (B, W, n_out),
    dt (B, W), extra (B, W, k)), one list per batch of episodes, batches in a seeded random
    order."""

    def __init__(
        self, episodes: Sequence[Episode], batch_size: int, window: int, seed: int
    ) -> None:
        if not episodes:
            raise TrainingDataError("no training episodes")
        self.episodes = list(episodes)
        self.batch_size = max(1, min(batch_size, len(self.episodes)))
        self.window = window
        self._rng = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[list[tuple[np.ndarray, ...]]]:
        # Shuffle, then sort by length (stable), so cropping to the shortest wastes little.
        order = self._rng.permutation(len(self.episodes))
        order = order[np.argsort([len(self.episodes[i]) for i in order], kind="stable")]
        groups = [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        for g in self._rng.permutation(len(groups)):
            yield self._chunks([self.episodes[i] for i in groups[g]])

    def __len__(self) -> int:
        return -(-len(self.episodes) // self.batch_size)

    def _chunks(self, group: list[Episode]) -> list[tuple[np.ndarray, ...]]:
        arrays = stack(group)
        length = arrays[0].shape[1]
        return [
            tuple(a[:, s : s + self.window] for a in arrays) for s in range(0, length, self.window)
        ]


def stack(group: Sequence[Episode]) -> tuple[np.ndarray, ...]:
    """(x, y, dt, extra) of the episodes, cropped to the shortest, stacked on a batch axis."""
    length = min(len(e) for e in group)
    return tuple(
        np.stack([getattr(e, name)[:length] for e in group])
        for name in ("inputs", "outputs", "dt", "extra")
    )
