"""Matplotlib figures of an explanation (PNG, Agg backend, no display needed).

Time axes put a recording's episodes one after another (dotted lines mark episode starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ltc_control.explain.recording import PolicyRecording
from ltc_control.explain.saliency import Saliency
from ltc_control.explain.trees import TreeFidelity

GROUP_ORDER = ("sensory", "inter", "command", "motor", "hidden")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _groups(recording: PolicyRecording) -> dict[str, list[int]]:
    """State indices per group, in signal order."""
    found: dict[str, list[int]] = {}
    for index, group in enumerate(recording.neuron_groups):
        found.setdefault(group, []).append(index)
    return {g: found[g] for g in GROUP_ORDER if g in found}


def _mark_episodes(axes, recording: PolicyRecording, time: np.ndarray) -> None:
    for start in np.flatnonzero(np.diff(recording.episode)) + 1:
        axes.axvline(time[start], color="grey", ls=":", lw=0.8)


def _save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    return path


def plot_activity(recording: PolicyRecording, normalized_inputs: np.ndarray, path: Path) -> Path:
    """Sensory inputs (normalized) and every neuron's state over time, one panel per group."""
    plt = _pyplot()
    groups = _groups(recording)
    time = recording.elapsed
    figure, panels = plt.subplots(
        len(groups) + 1, 1, figsize=(11, 2.2 * (len(groups) + 1)), sharex=True
    )
    panels[0].plot(time, normalized_inputs, lw=0.7)
    panels[0].set_ylabel("sensory\n(input std)")
    for axes, (group, indices) in zip(panels[1:], groups.items(), strict=True):
        for i in indices:
            axes.plot(time, recording.state_after[:, i], lw=0.8, label=recording.neuron_names[i])
        axes.set_ylabel(f"{group}\nstate")
        if len(indices) <= 8:
            axes.legend(fontsize=6, loc="upper right", ncol=4)
    for axes in panels:
        _mark_episodes(axes, recording, time)
    panels[-1].set_xlabel("time (s, episodes one after another)")
    panels[0].set_title("Neuron activity by wiring group")
    return _save(figure, path)


def plot_time_constants(recording: PolicyRecording, tau: np.ndarray, path: Path) -> Path:
    """tau over time per group (log scale), and every neuron's median tau, sorted."""
    plt = _pyplot()
    from matplotlib.patches import Patch

    groups = _groups(recording)
    time = recording.elapsed
    figure = plt.figure(figsize=(13, 2.3 * len(groups) + 1))
    grid = figure.add_gridspec(len(groups), 2, width_ratios=(3, 1))
    for row, (group, indices) in enumerate(groups.items()):
        axes = figure.add_subplot(grid[row, 0])
        for i in indices:
            axes.semilogy(time, tau[:, i], lw=0.8)
        _mark_episodes(axes, recording, time)
        axes.set_ylabel(f"{group}\ntau (s)")
        if row == len(groups) - 1:
            axes.set_xlabel("time (s)")
    median = np.median(tau, axis=0)
    order = np.argsort(median)
    colors = {g: f"C{k}" for k, g in enumerate(groups)}
    bars = figure.add_subplot(grid[:, 1])
    bars.barh(
        range(len(order)),
        median[order],
        color=[colors[recording.neuron_groups[i]] for i in order],
    )
    bars.set_xscale("log")
    bars.set_yticks(range(len(order)), [recording.neuron_names[i] for i in order], fontsize=7)
    bars.set_xlabel("median tau (s), fastest at the bottom")
    handles = [Patch(color=color, label=group) for group, color in colors.items()]
    line = bars.axvline(np.median(recording.dt), color="black", ls="--", lw=0.8)
    bars.legend([*handles, line], [*colors, "median dt"], fontsize=7)
    figure.suptitle("Effective time constants (see summary.json: time_constant_method)")
    return _save(figure, path)


def plot_saliency(
    saliencies: Sequence[Saliency], input_names: list[str], output_names: list[str], path: Path
) -> Path:
    """One heat map per horizon: mean |d output / d input| in output stds per input std."""
    plt = _pyplot()
    figure, panels = plt.subplots(
        1,
        len(saliencies),
        figsize=(0.45 * len(input_names) * len(saliencies) + 3, 0.5 * len(output_names) + 3),
    )
    for k, (axes, saliency) in enumerate(zip(np.atleast_1d(panels), saliencies, strict=True)):
        image = axes.imshow(saliency.normalized, cmap="viridis", aspect="auto")
        axes.set_xticks(range(len(input_names)), input_names, rotation=90, fontsize=7)
        axes.set_yticks(range(len(output_names)), output_names if k == 0 else [], fontsize=7)
        axes.set_title(
            f"horizon {saliency.horizon_steps} step(s), {saliency.points} points", fontsize=9
        )
        figure.colorbar(image, ax=axes, shrink=0.8, label="output std / input std")
    figure.suptitle("Input saliency (central finite differences along the rollout)")
    return _save(figure, path)


def plot_tree_fidelity(
    fidelity: Sequence[TreeFidelity], output_names: list[str], path: Path
) -> Path:
    """Held-out R² per output against tree depth; one panel per feature set; train R² dashed."""
    plt = _pyplot()
    feature_sets = list(dict.fromkeys(f.feature_set for f in fidelity))
    figure, panels = plt.subplots(
        1, len(feature_sets), figsize=(6 * len(feature_sets), 4), sharey=True
    )
    for axes, feature_set in zip(np.atleast_1d(panels), feature_sets, strict=True):
        rows = [f for f in fidelity if f.feature_set == feature_set]
        depths = [f.depth for f in rows]
        for o, name in enumerate(output_names):
            line = axes.plot(depths, [f.r2_test[o] for f in rows], marker="o", label=name)[0]
            axes.plot(
                depths, [f.r2_train[o] for f in rows], ls="--", color=line.get_color(), alpha=0.5
            )
        axes.set_title(f"features: {feature_set}")
        axes.set_xlabel("tree depth")
        axes.axhline(0.0, color="black", lw=0.6)
        axes.set_ylim(max(-1.0, axes.get_ylim()[0]), 1.02)
    np.atleast_1d(panels)[0].set_ylabel("R² (solid: held out, dashed: train)")
    np.atleast_1d(panels)[-1].legend(fontsize=6)
    figure.suptitle("How much of the policy a decision tree explains")
    return _save(figure, path)
