"""The wiring as a graph: who excites or inhibits whom, drawn with matplotlib alone.

Columns run sensory -> inter -> command -> motor (the wiring's groups in signal order). An edge is
a synapse; its colour is its sign and its width its learned strength (relative to the strongest
edge), both read from the trained parameters where the cell gives them a meaning:

- LTC: sign of the learned reversal potential erev (ncps initializes erev from the wiring's
  polarity, training may flip it); strength = the synaptic conductance w (after softplus).
- CfC: ncps' CfC uses the wiring only as a 0/1 mask, so the sign shown is the wiring's drawn
  polarity; strength = |ff1 weight| + |ff2 weight| of that connection (|ff1| in pure mode).
  ncps' WiredCfC also connects every neuron of a layer to every other one (not drawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ltc_control.explain.errors import ExplainError
from ltc_control.runtime import LiquidPolicy
from ltc_control.runtime.paper_form import cfc_layers, ltc_parameters

EXCITATORY, INHIBITORY = "tab:green", "tab:red"


@dataclass(frozen=True)
class Synapse:
    source: str  # input name or neuron name
    target: str  # neuron name
    sign: int  # +1 excitatory, -1 inhibitory
    strength: float  # >= 0, cell-specific units (see module docstring)


def synapses(policy: LiquidPolicy) -> list[Synapse]:
    """Every wired synapse (sensory ones first), with sign and strength as the figure shows."""
    wiring = policy.wiring
    if wiring is None:
        raise ExplainError(f"policy {policy.model_id} has no wiring (an unwired CfC) to draw")
    sensory_strength, strength = _strengths(policy)
    sensory_sign, sign = _signs(policy)
    names = _neuron_names(policy)
    found = [
        Synapse(
            policy.input_names[i], names[j], int(sensory_sign[i, j]), float(sensory_strength[i, j])
        )
        for i, j in zip(*np.nonzero(wiring.sensory_adjacency), strict=True)
    ]
    found += [
        Synapse(names[i], names[j], int(sign[i, j]), float(strength[i, j]))
        for i, j in zip(*np.nonzero(wiring.adjacency), strict=True)
    ]
    return found


def _neuron_names(policy: LiquidPolicy) -> dict[int, str]:
    """Wiring neuron id -> the policy's neuron name."""
    return dict(zip(policy.neuron_ids, policy.neuron_names, strict=True))


def _signs(policy: LiquidPolicy) -> tuple[np.ndarray, np.ndarray]:
    wiring = policy.wiring
    if policy.kind == "ltc":
        p = ltc_parameters(policy)
        return np.sign(p["sensory_erev"]) * np.abs(wiring.sensory_adjacency), np.sign(
            p["erev"]
        ) * np.abs(wiring.adjacency)
    return wiring.sensory_adjacency, wiring.adjacency


def _strengths(policy: LiquidPolicy) -> tuple[np.ndarray, np.ndarray]:
    """(input, neuron) and (neuron, neuron) strengths, indexed by wiring neuron id."""
    wiring = policy.wiring
    if policy.kind == "ltc":
        p = ltc_parameters(policy)
        return p["sensory_w"], p["w"]
    sensory = np.zeros(wiring.sensory_adjacency.shape)
    recurrent = np.zeros(wiring.adjacency.shape)
    layers = cfc_layers(policy)
    for index, layer in enumerate(layers):
        magnitude = sum(np.abs(layer.heads[h][0]) for h in ("ff1", "ff2") if h in layer.heads)
        posts = wiring.neurons_of_layer(index)
        n_source = magnitude.shape[1] - len(posts)
        own = magnitude[:, n_source:]  # (post, own layer neurons)
        recurrent[np.ix_(posts, posts)] = own.T
        if layer.source == "inputs":
            sensory[:, posts] = magnitude[:, :n_source].T
        else:
            recurrent[np.ix_(wiring.neurons_of_layer(index - 1), posts)] = magnitude[:, :n_source].T
    return sensory, recurrent


def draw_wiring(policy: LiquidPolicy, path: str | Path) -> Path:
    """Write the wiring graph PNG to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    edges = synapses(policy)
    positions, columns = _layout(policy)
    strongest = max((e.strength for e in edges), default=1.0) or 1.0
    height = max(len(c) for c in columns.values())
    figure, axes = plt.subplots(figsize=(3.2 * len(columns) + 2, 0.45 * height + 2.5))
    for edge in edges:
        start, end = positions[edge.source], positions[edge.target]
        color = EXCITATORY if edge.sign > 0 else INHIBITORY
        width = 0.3 + 2.5 * edge.strength / strongest
        if edge.source == edge.target:
            axes.add_patch(
                plt.Circle(
                    (start[0] + 0.09, start[1] + 0.09), 0.08, fill=False, color=color, lw=width
                )
            )
            continue
        bend = 0.35 if start[0] == end[0] else 0.0
        axes.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=8,
                color=color,
                lw=width,
                alpha=0.7,
                connectionstyle=f"arc3,rad={bend}",
                shrinkA=6,
                shrinkB=6,
            )
        )
    for column, (group, names) in enumerate(columns.items()):
        xs, ys = zip(*(positions[n] for n in names), strict=True)
        axes.scatter(xs, ys, s=140, zorder=3, color=f"C{column}", edgecolor="black")
        for name in names:
            x, y = positions[name]
            side, align = (-0.12, "right") if group == "sensory" else (0.12, "left")
            axes.text(x + side, y, name, fontsize=7, ha=align, va="center")
        axes.text(column, height / 2 + 0.8, group, ha="center", fontsize=11, weight="bold")
    legend = [
        Line2D([], [], color=EXCITATORY, label="excitatory"),
        Line2D([], [], color=INHIBITORY, label="inhibitory"),
    ]
    axes.legend(
        handles=legend, loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.06)
    )
    axes.set_title(
        f"{policy.model_id}: {policy.kind.upper()} wiring ({len(edges)} synapses; width = learned strength)"
    )
    axes.set_xlim(-1.4, len(columns) - 0.3)
    axes.set_ylim(-height / 2 - 1, height / 2 + 1.3)
    axes.axis("off")
    path = Path(path)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def _layout(policy: LiquidPolicy) -> tuple[dict[str, tuple[float, float]], dict[str, list[str]]]:
    """Node positions: one column per group (sensory first), nodes centred vertically."""
    names = _neuron_names(policy)
    columns = {"sensory": list(policy.input_names)}
    columns |= {group: [names[i] for i in ids] for group, ids in policy.wiring.groups.items()}
    positions = {}
    for x, members in enumerate(columns.values()):
        for k, name in enumerate(members):
            positions[name] = (float(x), (len(members) - 1) / 2 - k)
    return positions, columns
