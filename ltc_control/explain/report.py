"""Explain a policy along a rollout: figures (PNG), tree rules (text) and a JSON summary.

`explain_policy(policy, trajectories, output_dir)` writes into output_dir:

    activity.png          sensory inputs and neuron states over time, by wiring group
    time_constants.png    each neuron's effective time constant (time_constants module)
    wiring.png            the wiring graph, excitatory/inhibitory (wiring_graph module)
    saliency.png          input -> output sensitivity heat maps (saliency module)
    tree_fidelity.png     held-out R² of distilled decision trees against depth (trees module)
    tree_rules.txt        the trees' rules at `rules_depth` for every distinct feature set (inputs
                          alone, + non-motor neurons, + all neurons; trees module), sklearn
                          export_text, each with its held-out R² and what that R² means
    summary.json          all numbers behind the figures (strict JSON, finite values)

A neuron is labelled "fast" when its median time constant is at most FAST_STEPS control periods
(median dt of the rollout), i.e. it follows its inputs within a few steps; otherwise "slow".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.data.trajectory import Trajectory
from ltc_control.explain import figures
from ltc_control.explain.errors import ExplainError
from ltc_control.explain.recording import PolicyRecording, record_policy
from ltc_control.explain.saliency import Saliency, input_saliency
from ltc_control.explain.time_constants import time_constants
from ltc_control.explain.trees import (
    HeldOutSplit,
    distinct_feature_sets,
    held_out_split,
    tree_fidelity,
    tree_rules,
)
from ltc_control.explain.wiring_graph import draw_wiring, synapses
from ltc_control.runtime import LiquidPolicy

FAST_STEPS = 10

TIME_CONSTANT_METHOD = {
    "ltc": "tau_sys = cm / (gleak + sum of w * sigmoid(sigma (pre - mu)) over wired recurrent and "
    "sensory synapses), at the state after each step",
    "cfc": "tau = 1 / |time_a(x)|: the elapsed time over which the interpolation gate "
    "sigmoid(time_a dt + time_b) moves by one logistic unit (pure mode: 1 / (|w_tau| + |ff1|))",
}


@dataclass(frozen=True)
class ExplainOptions:
    depths: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12)  # decision-tree depths to score
    rules_depth: int = 3  # depth of the printed rules
    horizon_s: float = 0.25  # sustained-saliency window, s (plus the one-step saliency)
    saliency_points: int = 100
    test_fraction: float = 0.25


def explain_policy(
    policy: LiquidPolicy,
    trajectories: Sequence[Trajectory],
    output_dir: str | Path,
    options: ExplainOptions | None = None,
    source: str = "",
) -> dict[str, Any]:
    """Replay `trajectories` through `policy`, write the files listed above, return the summary."""
    options = options or ExplainOptions()
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    recording = record_policy(policy, trajectories)
    norm = policy.normalization
    tau = time_constants(policy, recording)
    saliencies = _saliencies(policy, recording, options)
    split = held_out_split(recording, options.test_fraction)
    feature_sets, omitted = distinct_feature_sets(recording)
    fidelity = tree_fidelity(recording, split, options.depths, feature_sets)
    (output / "tree_rules.txt").write_text(
        _rules_preamble(split, omitted)
        + "\n".join(
            tree_rules(recording, split, f, options.rules_depth, _units(policy))
            for f in feature_sets
        )
    )
    paths = {
        "activity": figures.plot_activity(
            recording,
            (recording.inputs - norm.input_mean) / norm.input_std,
            output / "activity.png",
        ),
        "time_constants": figures.plot_time_constants(
            recording, tau, output / "time_constants.png"
        ),
        "saliency": figures.plot_saliency(
            saliencies, recording.input_names, recording.output_names, output / "saliency.png"
        ),
        "tree_fidelity": figures.plot_tree_fidelity(
            fidelity, recording.output_names, output / "tree_fidelity.png"
        ),
    }
    if policy.wiring is not None:
        paths["wiring"] = draw_wiring(policy, output / "wiring.png")
    summary = {
        "model": _model_summary(policy),
        "rollout": _rollout_summary(recording, source),
        "time_constant_method": TIME_CONSTANT_METHOD[policy.kind],
        "fast_neuron_rule": f"median tau <= {FAST_STEPS} x median dt",
        "neurons": _neuron_summary(recording, tau),
        "wiring": _wiring_summary(policy),
        "saliency": {
            "method": "central finite differences of the network restarted from recorded "
            "states, input offsets held over the horizon; normalized = output stds per input std",
            "horizons": [_saliency_summary(s, recording) for s in saliencies],
        },
        "decision_tree": {
            "split": split.description,
            "train_steps": int(split.train.sum()),
            "test_steps": int(split.test.sum()),
            "rules_file": "tree_rules.txt",
            "rules_depth": options.rules_depth,
            "rules_features": feature_sets,
            "omitted_feature_sets": omitted,
            "rules_r2_test": {
                f.feature_set: f.r2_test
                for f in tree_fidelity(recording, split, (options.rules_depth,), feature_sets)
            },
            "fidelity": [asdict(f) for f in fidelity],
        },
        "figures": {name: path.name for name, path in paths.items()},
    }
    (output / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=False))
    return summary


def _rules_preamble(split: HeldOutSplit, omitted: dict[str, str]) -> str:
    lines = [
        "# Decision trees distilled from the policy, one per output. Each block's held-out R²",
        f"# ({split.description}) says how well its rules predict the policy on steps they",
        "# never saw: 1 = exactly, 0 = no better than the mean, < 0 = worse. Rules with a low",
        "# R² read crisply but do not describe the policy. Thresholds and leaf values carry",
        "# units; neuron:<name> features are hidden states (model space, unitless).",
    ]
    lines += [f"# Feature set '{name}' left out: {why}." for name, why in omitted.items()]
    return "\n".join(lines) + "\n\n"


def _units(policy: LiquidPolicy) -> dict[str, str]:
    names = [*policy.input_names, *policy.output_names]
    return dict(zip(names, [*policy.input_units, *policy.output_units], strict=True))


def _saliencies(
    policy: LiquidPolicy, recording: PolicyRecording, options: ExplainOptions
) -> list[Saliency]:
    horizon = max(1, round(options.horizon_s / float(np.median(recording.dt))))
    steps = sorted({1, horizon})
    try:
        return [input_saliency(policy, recording, h, options.saliency_points) for h in steps]
    except ExplainError:  # episodes shorter than the horizon: the one-step saliency still fits
        return [input_saliency(policy, recording, 1, options.saliency_points)]


def _model_summary(policy: LiquidPolicy) -> dict[str, Any]:
    cell = policy.network.config()["cell"]
    return {
        "model_id": policy.model_id,
        "kind": policy.kind,
        "mode": cell.get("mode"),
        "dtype": policy.dtype.name,
        "inputs": [
            f"{n} [{u}]" for n, u in zip(policy.input_names, policy.input_units, strict=True)
        ],
        "outputs": [
            f"{n} [{u}]" for n, u in zip(policy.output_names, policy.output_units, strict=True)
        ],
        "neurons": policy.network.state_size,
    }


def _rollout_summary(recording: PolicyRecording, source: str) -> dict[str, Any]:
    return {
        "source": source,
        "episodes": recording.episodes,
        "steps": len(recording),
        "duration_s": float(recording.dt.sum()),
        "dt_s": {
            "median": float(np.median(recording.dt)),
            "min": float(recording.dt.min()),
            "max": float(recording.dt.max()),
        },
    }


def _neuron_summary(recording: PolicyRecording, tau: np.ndarray) -> list[dict[str, Any]]:
    fast_limit = FAST_STEPS * float(np.median(recording.dt))
    rows = []
    for i, (name, group) in enumerate(
        zip(recording.neuron_names, recording.neuron_groups, strict=True)
    ):
        p10, median, p90 = np.percentile(tau[:, i], [10, 50, 90])
        rows.append(
            {
                "name": name,
                "group": group,
                "activity_mean": float(recording.state_after[:, i].mean()),
                "activity_std": float(recording.state_after[:, i].std()),
                "tau_median_s": float(median),
                "tau_p10_s": float(p10),
                "tau_p90_s": float(p90),
                "speed": "fast" if median <= fast_limit else "slow",
            }
        )
    return rows


def _wiring_summary(policy: LiquidPolicy) -> dict[str, Any]:
    if policy.wiring is None:
        return {"kind": None, "note": "unwired CfC: every neuron reads every input and neuron"}
    edges = synapses(policy)
    return {
        "kind": policy.wiring.kind,
        "groups": {g: len(ids) for g, ids in policy.wiring.groups.items()},
        "synapses": len(edges),
        "excitatory": sum(e.sign > 0 for e in edges),
        "inhibitory": sum(e.sign < 0 for e in edges),
        "sign_source": "learned erev sign"
        if policy.kind == "ltc"
        else "wiring polarity (mask only in CfC)",
    }


def _saliency_summary(saliency: Saliency, recording: PolicyRecording) -> dict[str, Any]:
    return {
        "horizon_steps": saliency.horizon_steps,
        "horizon_s": saliency.horizon_steps * float(np.median(recording.dt)),
        "points": saliency.points,
        "inputs": recording.input_names,
        "outputs": recording.output_names,
        "normalized": saliency.normalized.tolist(),
        "signed": saliency.signed.tolist(),
        "raw": saliency.raw.tolist(),
        "top_inputs": saliency.top_inputs(recording.input_names, recording.output_names),
    }
