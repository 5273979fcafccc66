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
predicting the held-out mean; negative means worse. Rules are printed with that R² and a plain
verdict (`verdict`): rules whose R² is low do not describe the policy, however crisp they read.
A feature set identical to an earlier one (all-to-all wirings: every neuron is a motor neuron, so
"inputs+upstream" is "inputs"; unwired CfC: no motor group, so it is "inputs+neurons") is left
out, with the reason (`distinct_feature_sets`).
"""

from __future__ import annotations

import re
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


def distinct_feature_sets(recording: PolicyRecording) -> tuple[list[str], dict[str, str]]:
    """The FEATURE_SETS to fit, and {left-out set: why}: "inputs+upstream" is left out when it
    has the same columns as "inputs" or "inputs+neurons" (no separate upstream neurons)."""
    columns = {name: features(recording, name)[1] for name in FEATURE_SETS}
    groups = set(recording.neuron_groups)
    for same in ("inputs", "inputs+neurons"):
        if columns["inputs+upstream"] == columns[same]:
            structure = (
                "every neuron is a motor neuron (an all-to-all wiring: none upstream of them)"
                if groups == {"motor"}
                else f"no neuron is a motor neuron (groups: {', '.join(sorted(groups))})"
            )
            kept = [name for name in FEATURE_SETS if name != "inputs+upstream"]
            return kept, {"inputs+upstream": f"same features as '{same}': {structure}"}
    return list(FEATURE_SETS), {}


def verdict(r2: float) -> str:
    """What a held-out R² says about rules fitted to the policy, in words."""
    if r2 >= 0.9:
        return "the rules describe the policy well"
    if r2 >= 0.5:
        return "the rules describe the policy roughly"
    if r2 >= 0.0:
        return f"the rules describe the policy poorly ({r2:.0%} of its variance on unseen steps)"
    return "the rules do NOT describe the policy (worse than the mean of the unseen steps)"


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
    recording: PolicyRecording,
    split: HeldOutSplit,
    feature_set: str,
    depth: int,
    units: dict[str, str] | None = None,
) -> str:
    """The trees' rules as text (sklearn export_text), one block per output headed by its
    held-out R² and verdict; thresholds and leaf values carry `units` (name -> unit; neuron
    states are model space, unitless)."""
    x, names = features(recording, feature_set)
    units = units or {}
    blocks = []
    trees = fit_trees(recording, split, feature_set, depth)
    r2_test = _r2(trees, x[split.test], recording.outputs[split.test])
    for output, tree, r2 in zip(recording.output_names, trees, r2_test, strict=True):
        rules = export_text(tree, feature_names=names, decimals=3)
        rules = _with_units(rules, units, units.get(output, ""))
        blocks.append(
            f"# {output} (depth {depth}, features: {feature_set}): held-out R² {r2:.2f}, "
            f"{verdict(r2)}\n{rules}"
        )
    return "\n".join(blocks)


_THRESHOLD = re.compile(r"^(.*--- )(\S+) (<=|>) +(\S+)$")
_LEAF = re.compile(r"^(.*--- value: \[\S+\])$")


def _with_units(rules: str, units: dict[str, str], output_unit: str) -> str:
    lines = []
    for line in rules.splitlines():
        if match := _THRESHOLD.match(line):
            prefix, name, relation, value = match.groups()
            unit = units.get(name, "")
            line = f"{prefix}{name} {relation} {value}{' ' + unit if unit else ''}"
        elif output_unit and _LEAF.match(line):
            line = f"{line} {output_unit}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _r2(trees: list[DecisionTreeRegressor], x: np.ndarray, y: np.ndarray) -> list[float]:
    return [float(r2_score(y[:, o], tree.predict(x))) for o, tree in enumerate(trees)]
