"""explain_policy on the shipped policies: every file exists, figures are finite images, the
summary is strict JSON with the promised content, and tree fidelity is held-out."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from explain_cases import case_ids
from matplotlib.image import imread

from ltc_control.explain import held_out_split, record_policy, tree_fidelity
from ltc_control.explain.time_constants import TAU_MAX, TAU_MIN

FILES = ("activity.png", "time_constants.png", "wiring.png", "saliency.png", "tree_fidelity.png")


def _strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"non-finite {constant} in summary.json")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("explained", case_ids(), indirect=True)
def test_files_exist_and_figures_are_finite_images(explained):
    for name in FILES:
        image = imread(explained.output / name)
        assert image.ndim == 3 and min(image.shape[:2]) > 200, name
        assert np.isfinite(image).all(), name
        assert image[..., :3].std() > 0.01, f"{name} is blank"
    rules = (explained.output / "tree_rules.txt").read_text()
    trees = explained.summary["decision_tree"]
    kept, omitted = trees["rules_features"], trees["omitted_feature_sets"]
    assert sorted([*kept, *omitted]) == sorted(["inputs", "inputs+upstream", "inputs+neurons"])
    for feature_set in kept:
        for output, r2 in zip(
            explained.policy.output_names, trees["rules_r2_test"][feature_set], strict=True
        ):
            assert f"# {output} (depth 3, features: {feature_set}): held-out R² {r2:.2f}, " in rules
            if r2 < 0:
                assert "do NOT describe the policy" in rules
    for feature_set, why in omitted.items():  # an all-to-all wiring: 'upstream' is 'inputs'
        assert f"features: {feature_set})" not in rules
        assert f"'{feature_set}' left out: same features as" in rules and why in rules
    assert "neuron:" in rules and "value: [" in rules
    unit = explained.policy.input_units[0]
    assert f"{explained.policy.input_names[0]} <= " in rules and f" {unit}\n" in rules


@pytest.mark.parametrize("explained", case_ids(), indirect=True)
def test_summary_reports_groups_time_constants_saliency_and_fidelity(explained):
    summary = _strict_json((explained.output / "summary.json").read_text())
    policy = explained.policy
    neurons = summary["neurons"]
    assert [n["name"] for n in neurons] == policy.neuron_names
    # NCP wirings have three neuron groups; an all-to-all wiring's neurons are all motor neurons
    layered = policy.wiring.kind in ("ncp", "auto_ncp")
    expected = {"inter", "command", "motor"} if layered else {"motor"}
    assert {n["group"] for n in neurons} == expected
    for n in neurons:
        assert TAU_MIN <= n["tau_p10_s"] <= n["tau_median_s"] <= n["tau_p90_s"] <= TAU_MAX
        assert n["speed"] in ("fast", "slow")
    for horizon in summary["saliency"]["horizons"]:
        matrix = np.array(horizon["normalized"])
        assert matrix.shape == (len(policy.output_names), len(policy.input_names))
        assert (matrix >= 0).all() and matrix.max() > 0
    fidelity = summary["decision_tree"]["fidelity"]
    kept = summary["decision_tree"]["rules_features"]
    assert "inputs" in kept and "inputs+neurons" in kept
    assert ("inputs+upstream" in kept) == layered  # all-to-all: the same features as 'inputs'
    assert {(f["feature_set"], f["depth"]) for f in fidelity} == {
        (s, d) for s in kept for d in (1, 2, 3, 4, 6, 8, 12)
    }
    for row in fidelity:
        assert len(row["r2_test"]) == len(policy.output_names)
        assert all(r <= 1.0 for r in row["r2_test"] + row["r2_train"])
    assert (
        summary["decision_tree"]["test_steps"] > 0 and summary["decision_tree"]["train_steps"] > 0
    )


@pytest.mark.parametrize("explained", case_ids(), indirect=True)
def test_fidelity_is_scored_on_steps_the_trees_never_saw(explained):
    """Scrambling the held-out outputs changes the held-out R² but not the trees (train R²)."""
    recording = record_policy(explained.policy, explained.trajectories)
    split = held_out_split(recording)
    assert not (split.train & split.test).any()
    assert set(recording.episode[split.train]).isdisjoint(recording.episode[split.test])
    outputs = recording.outputs.copy()
    outputs[split.test] = np.random.default_rng(0).permutation(outputs[split.test])
    scrambled = replace(recording, outputs=outputs)
    kept = explained.summary["decision_tree"]["rules_features"]
    original = tree_fidelity(recording, split, (4,), kept)
    shuffled = tree_fidelity(scrambled, split, (4,), kept)
    for before, after in zip(original, shuffled, strict=True):
        assert before.r2_train == after.r2_train
        assert before.r2_test != after.r2_test
    reported = {
        (f["feature_set"], f["depth"]): f["r2_test"]
        for f in explained.summary["decision_tree"]["fidelity"]
    }
    for row in original:
        np.testing.assert_allclose(reported[(row.feature_set, 4)], row.r2_test)


@pytest.mark.parametrize("explained", case_ids()[:1], indirect=True)
def test_single_episode_split_is_time_contiguous_with_a_gap(explained):
    recording = record_policy(explained.policy, explained.trajectories[:1])
    split = held_out_split(recording, test_fraction=0.3)
    train, test = np.flatnonzero(split.train), np.flatnonzero(split.test)
    assert train.max() + 1 < test.min()  # the gap
    assert test.max() == len(recording) - 1 and len(test) == round(0.3 * len(recording))
