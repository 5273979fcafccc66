"""Convert trained ncps 1.0.1 modules (`ncps.torch.LTC` / `ncps.torch.CfC`) to runtime policies.

`from_ncps(module, ...)` reads the module's configuration, its wiring (the actual adjacency and
polarity, so masks carry over exactly even for an `NCP` whose seed ncps forgets) and its weights.
`from_state_dict(state_dict, config, ...)` does the same from a saved state_dict plus a network
config (see `ltc_control.runtime.network`). The sparsity masks in the state_dict must equal the
wiring's; a mismatch raises `ConversionError`. torch and ncps are imported inside `from_ncps`
only, so this module can be imported on a device without them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.runtime.errors import ConversionError, LiquidRuntimeError
from ltc_control.runtime.network import LiquidNetwork, build_network
from ltc_control.runtime.policy import LiquidPolicy, Normalization
from ltc_control.runtime.wirings import Wiring

_MASK_KEYS = re.compile(r"(^|\.)(sensory_)?sparsity_mask$")
_BACKBONE_KEY = re.compile(r"^rnn_cell\.backbone\.(\d+)\.(weight|bias)$")
_ACTIVATIONS = {
    "LeCun": "lecun_tanh",
    "Tanh": "tanh",
    "ReLU": "relu",
    "GELU": "gelu",
    "SiLU": "silu",
}
# ncps wiring class -> (our kind, our param name -> ncps attribute)
_NCPS_WIRINGS = {
    "FullyConnected": (
        "fully_connected",
        {
            "units": "units",
            "output_dim": "output_dim",
            "erev_init_seed": "_erev_init_seed",
            "self_connections": "self_connections",
        },
    ),
    "Random": (
        "random",
        {
            "units": "units",
            "output_dim": "output_dim",
            "sparsity_level": "sparsity_level",
            "random_seed": "_random_seed",
        },
    ),
    "NCP": (
        "ncp",
        {
            "inter_neurons": "_num_inter_neurons",
            "command_neurons": "_num_command_neurons",
            "motor_neurons": "_num_motor_neurons",
            "sensory_fanout": "_sensory_fanout",
            "inter_fanout": "_inter_fanout",
            "recurrent_command_synapses": "_recurrent_command_synapses",
            "motor_fanin": "_motor_fanin",
        },
    ),
    "AutoNCP": (
        "auto_ncp",
        {
            "units": "units",
            "output_size": "_output_size",
            "sparsity_level": "_sparsity_level",
            "seed": "_seed",
        },
    ),
    "Wiring": ("custom", {"units": "units", "output_dim": "output_dim"}),
}


def wiring_from_ncps(ncps_wiring: Any) -> Wiring:
    """Our wiring with the ncps wiring's parameters and its actual adjacency matrices."""
    name = type(ncps_wiring).__name__
    if name not in _NCPS_WIRINGS:
        raise ConversionError(f"unsupported ncps wiring class {name}")
    if not ncps_wiring.is_built():
        raise ConversionError("the ncps wiring is not built (its module was never constructed)")
    kind, attributes = _NCPS_WIRINGS[name]
    params = {ours: _plain(getattr(ncps_wiring, attr)) for ours, attr in attributes.items()}
    if kind == "ncp":
        params["seed"] = None  # ncps' NCP does not keep its seed; the adjacency is authoritative
    return Wiring.from_config(
        {
            "kind": kind,
            "params": params,
            "input_dim": int(ncps_wiring.input_dim),
            "adjacency": np.asarray(ncps_wiring.adjacency_matrix).tolist(),
            "sensory_adjacency": np.asarray(ncps_wiring.sensory_adjacency_matrix).tolist(),
        }
    )


def from_ncps(module: Any, **options: Any) -> LiquidPolicy:
    """A policy computing exactly what `module` (an ncps LTC or CfC) computes. `options` are
    those of `from_state_dict` (names, units, normalization, model_id, description, dtype,
    path); dtype defaults to the module's."""
    from ncps.torch import LTC, CfC  # lazy: the runtime itself never needs torch

    if not isinstance(module, LTC | CfC):
        raise ConversionError(f"expected ncps.torch.LTC or ncps.torch.CfC, got {type(module)}")
    return from_state_dict(module.state_dict(), _network_config(module, LTC), **options)


def from_state_dict(
    state_dict: Mapping[str, Any],
    config: Mapping[str, Any],
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    input_units: Sequence[str] | None = None,
    output_units: Sequence[str] | None = None,
    normalization: Normalization | None = None,
    model_id: str = "unnamed",
    description: str = "",
    dtype: Any = None,
    path: str | Path | None = None,
) -> LiquidPolicy:
    """A policy from an ncps module's state_dict (tensors or arrays) and a network config
    (`LiquidNetwork.config()` format). Names default to "in_<i>"/"out_<i>", dtype to the
    state_dict's floating dtype; the policy is also written to `path` if given."""
    arrays = {key: _to_numpy(value) for key, value in state_dict.items()}
    # The weights' dtype, never a mask's: ncps allocates masks in float32 whatever the weights.
    floating = [
        a.dtype
        for key, a in arrays.items()
        if np.issubdtype(a.dtype, np.floating) and not _MASK_KEYS.search(key)
    ]
    dtype = np.dtype(dtype or (floating[0] if floating else np.float64))
    try:
        network = build_network(dict(config), _runtime_params(arrays), dtype)
    except LiquidRuntimeError as exc:
        raise ConversionError(f"state_dict does not fit the config: {exc}") from exc
    _check_masks(network, arrays)
    policy = LiquidPolicy(
        network,
        input_names=input_names or [f"in_{i}" for i in range(network.input_size)],
        output_names=output_names or [f"out_{i}" for i in range(network.output_size)],
        input_units=input_units,
        output_units=output_units,
        normalization=normalization,
        model_id=model_id,
        description=description,
    )
    if path is not None:
        from ltc_control.runtime.model_file import save_policy

        save_policy(policy, path)
    return policy


def _network_config(module: Any, ltc_class: type) -> dict[str, Any]:
    cell = module.rnn_cell
    if isinstance(module, ltc_class):
        return {
            "kind": "ltc",
            "input_size": int(module.input_size),
            "wiring": wiring_from_ncps(module._wiring).to_config(),
            "mixed_memory": bool(module.use_mixed),
            "proj_size": None,
            "cell": {
                "ode_unfolds": int(cell._ode_unfolds),
                "epsilon": float(cell._epsilon),
                "input_mapping": cell._input_mapping,
                "output_mapping": cell._output_mapping,
                "implicit_param_constraints": bool(cell._implicit_param_constraints),
            },
        }
    config = {
        "kind": "cfc",
        "input_size": int(module.input_size),
        "mixed_memory": bool(module.use_mixed),
        "proj_size": None if module.proj_size is None else int(module.proj_size),
    }
    if getattr(module, "wired_mode", False):
        wiring = wiring_from_ncps(module.wiring)
        mode = cell._layers[0].mode
        return config | {"wiring": wiring.to_config(), "cell": {"mode": mode}}
    return config | {"wiring": None, "units": int(cell.hidden_size), "cell": _cfc_cell_config(cell)}


def _cfc_cell_config(cell: Any) -> dict[str, Any]:
    linears = [m for m in (cell.backbone or []) if type(m).__name__ == "Linear"]
    activations = [
        type(m).__name__ for m in (cell.backbone or []) if type(m).__name__ in _ACTIVATIONS
    ]
    gelu = [m for m in (cell.backbone or []) if type(m).__name__ == "GELU"]
    if any(m.approximate != "none" for m in gelu):
        raise ConversionError("only exact (erf) GELU is supported, as ncps builds it")
    return {
        "mode": cell.mode,
        "activation": _ACTIVATIONS[activations[0]] if activations else "lecun_tanh",
        "backbone_units": int(linears[0].out_features) if linears else 0,
        "backbone_layers": int(cell.backbone_layers),
    }


def _runtime_params(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """ncps state_dict -> runtime names: masks dropped, backbone Linear slots renumbered."""
    slots = sorted({int(m.group(1)) for key in arrays if (m := _BACKBONE_KEY.match(key))})
    params = {}
    for key, value in arrays.items():
        if _MASK_KEYS.search(key):
            continue
        match = _BACKBONE_KEY.match(key)
        if match:
            key = f"rnn_cell.backbone.{slots.index(int(match.group(1)))}.{match.group(2)}"
        params[key] = value
    return params


def _check_masks(network: LiquidNetwork, arrays: dict[str, np.ndarray]) -> None:
    """The state_dict's sparsity masks must be the ones the wiring implies."""
    wiring = network.wiring
    if wiring is None:
        return
    expected = {}
    if network.kind == "ltc":
        expected["rnn_cell.sparsity_mask"] = np.abs(wiring.adjacency)
        expected["rnn_cell.sensory_sparsity_mask"] = np.abs(wiring.sensory_adjacency)
    else:
        for index, mask in enumerate(network.cell.layer_masks):
            expected[f"rnn_cell.layer_{index}.sparsity_mask"] = np.abs(mask).T
    for key, mask in expected.items():
        if key in arrays and not np.array_equal(arrays[key], mask):
            raise ConversionError(f"{key} in the state_dict differs from the wiring's adjacency")


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
