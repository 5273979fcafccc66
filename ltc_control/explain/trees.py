"""Decision trees distilled from a policy's behaviour, and how much of the policy they explain.

Features (FEATURE_SETS) are the step's raw inputs, plus the hidden state the step started from
(`state_before`, named "neuron:<name>"): none of it ("inputs": how much of the command is a
static function of the sensors), the non-motor neurons ("inputs+upstream": how much the
upstream circuit explains), or all neurons ("inputs+neurons"; the motor neurons' previous state is
close to the command itself, so this set mostly measures how smooth the policy is). Targets are
the policy's raw outputs. One
`DecisionTreeRegressor` per output (rules in that output's units). Fidelity is R² of the tree's
prediction of the *policy's* output (not of the expert's) on held-out steps the tree never saw:

- with two or more episodes, the last `test_fraction` of the episodes (at least one) are held out;
- with one episode, the last `test_fraction` of its steps are held out and a guard gap of
  `GAP_FRACTION` of the steps before them is dropped from training, so the tree is not scored on
  the immediate continuation of what it was fitted on (consecutive steps are nearly equal).

R² = 1 means the tree reproduces the policy on unseen data; 0 means it does no better than
predicting the held-out mean; negative means worse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import r2_score
from sklearn.tree import DecisionTreeRegressor, export_text

from ltc_control.explain.errors import ExplainError
from ltc_control.explain.recording import PolicyRecording

FEATURE_SETS = ("inputs", "inputs+upstream", "inputs+neurons")
GAP_FRACTION = 0.05
MIN_LEAF = 5  # steps per leaf: a leaf fitted to one noisy sample explains nothing


@dataclass(frozen=True)
class HeldOutSplit:
    train: np.ndarray  # (T,) bool
    test: np.ndarray  # (T,) bool
    description: str


@dataclass(frozen=True)
class TreeFidelity:
    feature_set: str
    depth: int
    leaves: list[int]  # per output
    r2_train: list[float]  # per output
    r2_test: list[float]  # per output


def held_out_split(recording: PolicyRecording, test_fraction: float = 0.25) -> HeldOutSplit:
    """Separate episodes when there are several, else a time-contiguous split with a gap."""
    if not 0.0 < test_fraction < 1.0:
        raise ExplainError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n, episodes = len(recording), recording.episodes
    if episodes >= 2:
        held = min(episodes - 1, max(1, round(test_fraction * episodes)))
        test = recording.episode >= episodes - held
        return HeldOutSplit(
            ~test, test, f"episodes {episodes - held}..{episodes - 1} of {episodes} held out"
        )
    first_test = round(n * (1.0 - test_fraction))
    train_end = first_test - round(n * GAP_FRACTION)
    if train_end < 2 * MIN_LEAF or n - first_test < 2:
        raise ExplainError(f"{n} steps are too few for a held-out split")
    index = np.arange(n)
    return HeldOutSplit(
        index < train_end,
        index >= first_test,
        f"one episode: steps {first_test}..{n - 1} held out, {first_test - train_end} gap steps dropped",
    )


def features(recording: PolicyRecording, feature_set: str) -> tuple[np.ndarray, list[str]]:
    if feature_set == "inputs":
        return recording.inputs, list(recording.input_names)
    if feature_set in ("inputs+upstream", "inputs+neurons"):
        keep = [
            i
            for i, group in enumerate(recording.neuron_groups)
            if feature_set == "inputs+neurons" or group != "motor"
        ]
        names = list(recording.input_names) + [f"neuron:{recording.neuron_names[i]}" for i in keep]
        return np.hstack([recording.inputs, recording.state_before[:, keep]]), names
    raise ExplainError(f"unknown feature set {feature_set!r}, valid: {FEATURE_SETS}")


def fit_trees(
    recording: PolicyRecording, split: HeldOutSplit, feature_set: str, depth: int
) -> list[DecisionTreeRegressor]:
    """One tree per output, fitted on the training steps only."""
    x, _ = features(recording, feature_set)
    return [
        DecisionTreeRegressor(max_depth=depth, min_samples_leaf=MIN_LEAF, random_state=0).fit(
            x[split.train], recording.outputs[split.train, o]
        )
        for o in range(recording.outputs.shape[1])
    ]


def tree_fidelity(
    recording: PolicyRecording,
    split: HeldOutSplit,
    depths: Sequence[int] = (1, 2, 3, 4, 6, 8, 12),
    feature_sets: Sequence[str] = FEATURE_SETS,
) -> list[TreeFidelity]:
    """R² per output on the training and the held-out steps, for every depth and feature set."""
    if any(int(d) < 1 for d in depths):
        raise ExplainError(f"tree depths must be >= 1, got {list(depths)}")
    results = []
    for feature_set in feature_sets:
        x, _ = features(recording, feature_set)
        for depth in depths:
            trees = fit_trees(recording, split, feature_set, int(depth))
            results.append(
                TreeFidelity(
                    feature_set=feature_set,
                    depth=int(depth),
                    leaves=[int(t.get_n_leaves()) for t in trees],
                    r2_train=_r2(trees, x[split.train], recording.outputs[split.train]),
                    r2_test=_r2(trees, x[split.test], recording.outputs[split.test]),
                )
            )
    return results


def tree_rules(
    recording: PolicyRecording, split: HeldOutSplit, feature_set: str, depth: int
) -> str:
    """The trees' rules as text (sklearn export_text), one block per output, leaf values in the
    output's units."""
    _, names = features(recording, feature_set)
    blocks = []
    for output, tree in zip(
        recording.output_names, fit_trees(recording, split, feature_set, depth), strict=True
    ):
        rules = export_text(tree, feature_names=names, decimals=3)
        blocks.append(f"# {output} (depth {depth}, features: {feature_set})\n{rules}")
    return "\n".join(blocks)


def _r2(trees: list[DecisionTreeRegressor], x: np.ndarray, y: np.ndarray) -> list[float]:
    return [float(r2_score(y[:, o], tree.predict(x))) for o, tree in enumerate(trees)]
