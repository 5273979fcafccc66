"""A policy's parameters as its equations use them, read from the model-file arrays.

The runtime's cells fuse and rescale their arrays for speed; the ONNX exporter (edge) and the
explainers need the plain, paper-form quantities instead. This module derives them from the
public model-file view of a policy (`network.params()`, `network.config()`, `wiring`), so it does
not depend on the cells' private, speed-oriented layout:

- `ltc_parameters(policy)`: LTC cell arrays after ncps' positivity constraint (softplus, or
  clipping with explicit constraints) with the wiring's masks multiplied into the synaptic
  weights (a masked synapse has weight 0, as in ncps).
- `with_dtype(policy, dtype)`: the same policy computing in another precision.
- `cfc_layers(policy)`: one `CfCLayer` per wiring layer (one layer for an unwired CfC), head
  weights (out, fan_in) with the sparsity mask applied to ff1/ff2 only (as ncps does).

Arrays keep the policy's dtype. Mixed-memory (LSTM) networks are refused with
`UnsupportedNetworkError`: neither the exporter nor the explainers model the LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ltc_control.errors import LtcControlError
from ltc_control.runtime.activations import softplus
from ltc_control.runtime.network import build_network
from ltc_control.runtime.parameters import strip_prefix
from ltc_control.runtime.policy import LiquidPolicy

LTC_POSITIVE = ("w", "sensory_w", "cm", "gleak")


class UnsupportedNetworkError(LtcControlError, ValueError):
    """The policy uses a network feature this tool does not handle (named in the message)."""


@dataclass(frozen=True)
class CfCLayer:
    """One CfC layer: x = [layer input, own old state] -> [backbone] -> heads -> new state.

    `heads[name] = (weight (out, fan_in), bias (out,))` for ff1 (and ff2, time_a, time_b unless
    mode is "pure"); ff1/ff2 already masked. `state` is the layer's slice of the policy state.
    `source` is "inputs" (model-space inputs) or the index of the layer whose new state feeds it.
    """

    mode: str
    heads: dict[str, tuple[np.ndarray, np.ndarray]]
    state: slice
    source: str | int
    backbone: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    activation: str = "lecun_tanh"
    A: np.ndarray | None = None  # (units,), pure mode
    w_tau: np.ndarray | None = None  # (units,), pure mode

    @property
    def units(self) -> int:
        return self.state.stop - self.state.start


def check_supported(policy: LiquidPolicy) -> None:
    if policy.network.mixed_memory:
        raise UnsupportedNetworkError(
            f"policy {policy.model_id} uses mixed memory (an LSTM before the cell); "
            "only plain LTC and CfC networks are supported"
        )


def with_dtype(policy: LiquidPolicy, dtype: object) -> LiquidPolicy:
    """The same policy computing in `dtype` (a float32 model's parameters are exact in float64),
    with a zero state."""
    network = build_network(policy.network.config(), policy.network.params(), np.dtype(dtype))
    return policy.with_network(network)


def ltc_parameters(policy: LiquidPolicy) -> dict[str, np.ndarray]:
    """LTC arrays: gleak, vleak, cm (units,); w, erev, sigma, mu (units, units); sensory_* (n_in,
    units); input_w/input_b (n_in,), output_w/output_b (n_out,) (identity where the mapping has
    none); w and sensory_w masked, positive ones constrained; plus ode_unfolds and epsilon."""
    check_supported(policy)
    if policy.kind != "ltc":
        raise UnsupportedNetworkError(f"policy {policy.model_id} is {policy.kind}, not ltc")
    cell = policy.network.config()["cell"]
    raw = _cell_params(policy)
    positive = softplus if cell["implicit_param_constraints"] else _clip_at_zero
    params = {
        name: positive(value) if name in LTC_POSITIVE else value for name, value in raw.items()
    }
    params["w"] = params["w"] * np.abs(policy.wiring.adjacency).astype(policy.dtype)
    params["sensory_w"] = params["sensory_w"] * np.abs(policy.wiring.sensory_adjacency).astype(
        policy.dtype
    )
    for prefix, size in (
        ("input", policy.network.input_size),
        ("output", policy.network.output_size),
    ):
        params.setdefault(f"{prefix}_w", np.ones(size, policy.dtype))
        params.setdefault(f"{prefix}_b", np.zeros(size, policy.dtype))
    params["ode_unfolds"] = np.asarray(cell["ode_unfolds"])
    params["epsilon"] = np.asarray(cell["epsilon"], policy.dtype)
    return params


def cfc_layers(policy: LiquidPolicy) -> list[CfCLayer]:
    """The CfC layers in the order a step runs them (NCP: inter, command, motor)."""
    check_supported(policy)
    if policy.kind != "cfc":
        raise UnsupportedNetworkError(f"policy {policy.model_id} is {policy.kind}, not cfc")
    config = policy.network.config()
    mode = config["cell"]["mode"]
    params = _cell_params(policy)
    if policy.wiring is None:
        layer = _cfc_layer(params, mode, slice(0, config["units"]), "inputs", None)
        backbone_layers = int(config["cell"].get("backbone_layers", 0))
        backbone = [
            (params[f"backbone.{k}.weight"], params[f"backbone.{k}.bias"])
            for k in range(backbone_layers)
        ]
        activation = config["cell"].get("activation", "lecun_tanh")
        return [replace(layer, backbone=backbone, activation=activation)]
    return _wired_layers(policy, params, mode)


def _wired_layers(policy: LiquidPolicy, params: dict[str, np.ndarray], mode: str) -> list[CfCLayer]:
    wiring = policy.wiring
    layers, start = [], 0
    for index in range(wiring.num_layers):
        units = wiring.neurons_of_layer(index)
        if index == 0:
            incoming = wiring.sensory_adjacency[:, units]
        else:
            incoming = wiring.adjacency[wiring.neurons_of_layer(index - 1)][:, units]
        # ncps' WiredCfCCell mask: wiring synapses from the layer input, all-to-all recurrent.
        mask = np.concatenate([np.abs(incoming), np.ones((len(units), len(units)))], axis=0)
        prefixed = strip_prefix(params, f"layer_{index}.")
        source = "inputs" if index == 0 else index - 1
        layers.append(_cfc_layer(prefixed, mode, slice(start, start + len(units)), source, mask))
        start += len(units)
    return layers


def _cfc_layer(params, mode, state, source, mask) -> CfCLayer:
    names = ("ff1",) if mode == "pure" else ("ff1", "ff2", "time_a", "time_b")
    heads = {}
    for name in names:
        weight, bias = params[f"{name}.weight"], params[f"{name}.bias"]
        if mask is not None and name in ("ff1", "ff2"):
            weight = weight * mask.T.astype(weight.dtype)
        heads[name] = (weight, bias)
    pure = mode == "pure"
    return CfCLayer(
        mode=mode,
        heads=heads,
        state=state,
        source=source,
        A=params["A"].reshape(-1) if pure else None,
        w_tau=params["w_tau"].reshape(-1) if pure else None,
    )


def _cell_params(policy: LiquidPolicy) -> dict[str, np.ndarray]:
    return strip_prefix(policy.network.params(), "rnn_cell.")


def _clip_at_zero(value: np.ndarray) -> np.ndarray:
    return np.maximum(value, 0.0)
