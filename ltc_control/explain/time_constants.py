"""Each neuron's effective time constant along a recording (seconds): fast versus slow neurons.

LTC (Hasani et al. 2021): the cell integrates cm dv/dt = gleak (vleak - v) + sum_j w_j s_j (erev_j
- v), so at a given state the membrane relaxes with the system time constant

    tau_sys = cm / (gleak + sum_j w_j s_j),   s_j = sigmoid(sigma_j (pre_j - mu_j)),

summed over the neuron's wired synapses, recurrent (pre = the neurons' state) and sensory (pre =
the mapped input). Evaluated at the state after each step with that step's input; cm, gleak, w
after ncps' positivity constraint.

CfC (Hasani et al. 2022): the closed form replaces exp(-t / tau) by the gate
t = sigmoid(time_a(x) dt + time_b(x)) (ncps' sign convention; the paper writes sigmoid(-f t + ...)).
The gate moves by one logistic unit when the elapsed time changes by 1 / |time_a|, so we use

    tau_cfc = 1 / |time_a(x)|

where x = [layer input, the layer's old state] of that step. It is the time scale over which the
neuron's new state moves from its ff1 towards its ff2 value: the CfC counterpart of tau_sys (the
paper derives f from the LTC's 1/tau_sys + conductance term). Pure mode has the paper's explicit
rate: tau = 1 / (|w_tau| + |ff1(x)|). A near-zero |time_a| means the gate does not depend on time
at all (the neuron is time-invariant); such values are clipped to TAU_MAX, as tiny ones to TAU_MIN,
so every figure stays finite.
"""

from __future__ import annotations

import numpy as np

from ltc_control.explain.recording import PolicyRecording
from ltc_control.runtime import LiquidPolicy
from ltc_control.runtime.activations import backbone_activation, sigmoid
from ltc_control.runtime.paper_form import CfCLayer, cfc_layers, ltc_parameters

TAU_MIN, TAU_MAX = 1e-4, 1e4  # s


def time_constants(policy: LiquidPolicy, recording: PolicyRecording) -> np.ndarray:
    """(T, units) effective time constants in seconds, state-entry order (recording.neuron_names)."""
    z = (recording.inputs - policy.normalization.input_mean) / policy.normalization.input_std
    if policy.kind == "ltc":
        tau = _ltc_tau(policy, z, recording.state_after)
    else:
        tau = np.empty_like(recording.state_after)
        layers = cfc_layers(policy)
        for layer in layers:
            # a layer reads the model-space inputs or the new state of the layer before it
            source = (
                z
                if layer.source == "inputs"
                else recording.state_after[:, layers[layer.source].state]
            )
            tau[:, layer.state] = _cfc_tau(layer, source, recording.state_before[:, layer.state])
    return np.clip(tau, TAU_MIN, TAU_MAX)


def _ltc_tau(policy: LiquidPolicy, z: np.ndarray, v: np.ndarray) -> np.ndarray:
    p = ltc_parameters(policy)
    mapped = z * p["input_w"] + p["input_b"]
    conductance = (
        p["gleak"] + _synaptic_conductance(v, p, "") + _synaptic_conductance(mapped, p, "sensory_")
    )
    return p["cm"] / conductance


def _synaptic_conductance(pre: np.ndarray, p: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """(T, post) sum over presynaptic j of w_j sigmoid(sigma_j (pre_j - mu_j)) (w masked)."""
    activation = sigmoid(p[f"{prefix}sigma"] * (pre[:, :, None] - p[f"{prefix}mu"]))
    return np.einsum("tjk,jk->tk", activation, p[f"{prefix}w"])


def _cfc_tau(layer: CfCLayer, source: np.ndarray, old_state: np.ndarray) -> np.ndarray:
    x = np.concatenate([source, old_state], axis=1)
    for weight, bias in layer.backbone:
        x = backbone_activation(layer.activation)(x @ weight.T + bias)
    if layer.mode == "pure":
        weight, bias = layer.heads["ff1"]
        return 1.0 / (np.abs(layer.w_tau) + np.abs(x @ weight.T + bias))
    weight, bias = layer.heads["time_a"]
    with np.errstate(divide="ignore"):
        return 1.0 / np.abs(x @ weight.T + bias)
