"""What a policy did along a rollout: its inputs, elapsed times, hidden states and outputs.

A rollout is a list of `Trajectory` (ltc_control.data.trajectory), from one of three sources:
- a rosbag2 recording (directory; `ltc_control.data.read_bag`),
- a trajectory file (`.npz`, `save_trajectories` / `load_trajectories`, format below),
- a closed-loop simulation (`ltc_control.evaluation.simulate_trajectories`): the policy drives
  the MuJoCo arm through `PolicyController` while the expert only labels.

`record_policy` replays a rollout's inputs through the policy, exactly as the controller feeds
them: inputs built by signal name (`ObservationLayout`), dt = time between samples (s), the first
sample of an episode getting the nominal period and gaps clamped to `max_dt` (as `StampClock`),
the state reset at each episode start. For a simulated rollout this reproduces the closed loop's
network steps exactly (same inputs, same dts, same state).

Trajectory file (`.npz`, no pickles): `__metadata__` (uint8 UTF-8 JSON: robot, joint_names,
episodes) and `episode_<k>/<array>` for the Trajectory arrays t, q, v, target, ee_position, tau.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ltc_control.data.trajectory import TRAJECTORY_ARRAYS, Trajectory
from ltc_control.explain.errors import ExplainError
from ltc_control.runtime import LiquidPolicy
from ltc_control.runtime.paper_form import check_supported
from ltc_control.runtime.signals import (
    MODEL_SENSES,
    ObservationLayout,
    SignalError,
)

MAX_DT = 0.1  # s, the policy node's default max_dt: longer gaps are clamped
_METADATA = "__metadata__"


@dataclass(frozen=True)
class PolicyRecording:
    """Row i is network step i. States are model space (what the network integrates); inputs
    and outputs raw units. `state_before[i]` is the state the step started from (zero at an
    episode start), `state_after[i]` the state it produced."""

    input_names: list[str]
    output_names: list[str]
    neuron_names: list[str]
    neuron_groups: list[str]
    time: np.ndarray  # (T,) s since its episode start (sum of the dts given)
    dt: np.ndarray  # (T,) s given to the network
    episode: np.ndarray  # (T,) int, episode index
    inputs: np.ndarray  # (T, n_in) raw
    outputs: np.ndarray  # (T, n_out) raw
    state_before: np.ndarray  # (T, units)
    state_after: np.ndarray  # (T, units)

    def __len__(self) -> int:
        return len(self.dt)

    @property
    def episodes(self) -> int:
        return int(self.episode.max()) + 1

    @property
    def elapsed(self) -> np.ndarray:
        """(T,) s on one axis across episodes (episodes placed one after another)."""
        return np.cumsum(self.dt)


def record_policy(
    policy: LiquidPolicy,
    trajectories: Sequence[Trajectory],
    nominal_dt: float | None = None,
    max_dt: float = MAX_DT,
) -> PolicyRecording:
    """Replay each trajectory's inputs through `policy` (state reset per episode); `nominal_dt`
    (s) is the first step's dt, by default each trajectory's median sample period."""
    if not trajectories:
        raise ExplainError("the rollout has no trajectories")
    return record_sequences(
        policy, [_policy_inputs(policy, t, nominal_dt, max_dt) for t in trajectories]
    )


def record_sequences(
    policy: LiquidPolicy, sequences: Sequence[tuple[np.ndarray, np.ndarray]]
) -> PolicyRecording:
    """Step `policy` through episodes given as (raw inputs (T, n_in), dt (T,) s), resetting
    its state at each episode start."""
    check_supported(policy)
    if not sequences:
        raise ExplainError("no input sequences to record")
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("outputs", "before", "after")}
    for inputs, dt in sequences:
        policy.reset()
        for x, elapsed in zip(inputs, dt, strict=True):
            rows["before"].append(policy.state[0])
            rows["outputs"].append(policy.step(x, float(elapsed)))
            rows["after"].append(policy.state[0])
    dts = [np.asarray(dt, dtype=float) for _, dt in sequences]
    return PolicyRecording(
        input_names=list(policy.input_names),
        output_names=list(policy.output_names),
        neuron_names=policy.neuron_names,
        neuron_groups=policy.neuron_groups,
        time=np.concatenate([np.cumsum(dt) - dt[0] for dt in dts]),
        dt=np.concatenate(dts),
        episode=np.concatenate([np.full(len(dt), k) for k, dt in enumerate(dts)]),
        inputs=np.concatenate([np.asarray(x, dtype=float) for x, _ in sequences]),
        outputs=np.array(rows["outputs"]),
        state_before=np.array(rows["before"]),
        state_after=np.array(rows["after"]),
    )


def _policy_inputs(
    policy: LiquidPolicy, trajectory: Trajectory, nominal_dt: float | None, max_dt: float
) -> tuple[np.ndarray, np.ndarray]:
    if len(trajectory) < 2:
        raise ExplainError(f"a trajectory of {trajectory.robot} has fewer than 2 samples")
    senses = any(name.partition("/")[0] in MODEL_SENSES for name in policy.input_names)
    try:
        if senses:  # the robot model's, through evaluation (explain does not load robots)
            from ltc_control.evaluation.closed_loop import observation_layout

            layout = observation_layout(policy.input_names, trajectory.robot)
        else:
            layout = ObservationLayout(policy.input_names, trajectory.joint_names)
    except SignalError as exc:
        raise ExplainError(f"policy {policy.model_id} cannot read this rollout: {exc}") from exc
    inputs = np.array(
        [
            layout.build(q, v, g)
            for q, v, g in zip(trajectory.q, trajectory.v, trajectory.target, strict=True)
        ]
    )
    dt = np.diff(trajectory.t, prepend=np.nan)
    dt[0] = float(np.median(dt[1:])) if nominal_dt is None else nominal_dt
    if not np.all(dt > 0.0):
        raise ExplainError("trajectory sample times are not strictly increasing")
    return inputs, np.minimum(dt, max_dt)


def load_trajectories(path: str | Path, robot: str | None = None) -> list[Trajectory]:
    """A rosbag2 directory (read_bag) or a trajectory `.npz` file."""
    path = Path(path)
    if path.is_dir():
        from ltc_control.data import read_bag

        return read_bag(path, robot)
    if not path.is_file():
        raise ExplainError(f"rollout {path} does not exist (give a rosbag2 directory or a .npz)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        metadata = json.loads(arrays.pop(_METADATA).tobytes().decode("utf-8"))
        return [
            Trajectory(
                robot=metadata["robot"],
                joint_names=tuple(metadata["joint_names"]),
                **{name: arrays[f"episode_{k}/{name}"] for name in TRAJECTORY_ARRAYS},
            )
            for k in range(int(metadata["episodes"]))
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExplainError(f"{path} is not a trajectory file: {exc!r}") from exc


def save_trajectories(trajectories: Sequence[Trajectory], path: str | Path) -> Path:
    """Write trajectories of one robot as a trajectory `.npz` (see the module docstring)."""
    if not trajectories:
        raise ExplainError("no trajectories to save")
    first, path = trajectories[0], Path(path)
    if path.suffix != ".npz":
        raise ExplainError(f"a trajectory file ends in .npz, got {path}")
    if any((t.robot, t.joint_names) != (first.robot, first.joint_names) for t in trajectories):
        raise ExplainError("trajectories of different robots or joints cannot share a file")
    metadata = {
        "robot": first.robot,
        "joint_names": list(first.joint_names),
        "episodes": len(trajectories),
    }
    arrays = {
        f"episode_{k}/{name}": getattr(trajectory, name)
        for k, trajectory in enumerate(trajectories)
        for name in TRAJECTORY_ARRAYS
    }
    encoded = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    np.savez(path, **{_METADATA: encoded}, **arrays)
    return path
