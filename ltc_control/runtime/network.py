"""A liquid network as ncps' `LTC`/`CfC` modules compose it: [mixed-memory LSTM] -> cell -> [fc].

Works in model space (normalized units); `LiquidPolicy` adds normalization and state.
Parameter names are exactly the ncps module's state_dict keys (`rnn_cell.*`, `lstm.*`, `fc.*`)
except that CfC backbone Linear layers are numbered 0..L-1 (ncps numbers Sequential slots), and
sparsity masks are not parameters (they come from the wiring).

Network config (JSON, stored in the model file):
    kind: "ltc" | "cfc"
    input_size: int                       number of inputs
    wiring: Wiring.to_config() | null     required for LTC; null = unwired CfC
    units: int                            hidden size of an unwired CfC
    mixed_memory: bool                    LSTM in front of the cell
    proj_size: int | null                 CfC only: linear output projection (ncps `fc`)
    cell: LTCRuntime.config() | CfCRuntime.config() | {"mode": ...} (wired CfC)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ltc_control.runtime.cfc import CfCRuntime, WiredCfCRuntime
from ltc_control.runtime.errors import ParameterError
from ltc_control.runtime.lstm import LSTMRuntime
from ltc_control.runtime.ltc import LTCRuntime
from ltc_control.runtime.parameters import require, strip_prefix
from ltc_control.runtime.wirings import Wiring

Cell = LTCRuntime | CfCRuntime | WiredCfCRuntime


class LiquidNetwork:
    """Mixed-memory LSTM (optional), liquid cell, output projection (optional)."""

    def __init__(
        self,
        cell: Cell,
        lstm: LSTMRuntime | None = None,
        projection: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.cell = cell
        self.lstm = lstm
        self.kind = cell.kind
        self.input_size = cell.input_size
        self.state_size = cell.state_size
        self.dtype = cell.dtype
        self.wiring: Wiring | None = getattr(cell, "wiring", None)
        self._projection = None
        self.output_size = cell.output_size
        if projection is not None:
            weight, bias = projection
            self._projection = (weight.T.copy(), bias)
            self.output_size = weight.shape[0]

    @property
    def mixed_memory(self) -> bool:
        return self.lstm is not None

    def step(
        self, inputs: np.ndarray, h: np.ndarray, c: np.ndarray | None, elapsed: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Model-space step of one sample: inputs (n,), h/c (units,), elapsed seconds > 0."""
        if self.lstm is not None:
            h, c = self.lstm.step(inputs, h, c)
        outputs, h = self.cell.step(inputs, h, elapsed)
        if self._projection is not None:
            outputs = outputs @ self._projection[0] + self._projection[1]
        return outputs, h, c

    def params(self) -> dict[str, np.ndarray]:
        params = {f"rnn_cell.{k}": v for k, v in self.cell.params().items()}
        if self.lstm is not None:
            params |= {f"lstm.{k}": v for k, v in self.lstm.params().items()}
        if self._projection is not None:
            params["fc.weight"] = self._projection[0].T.copy()
            params["fc.bias"] = self._projection[1].copy()
        return params

    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "input_size": self.input_size,
            "wiring": None if self.wiring is None else self.wiring.to_config(),
            "units": self.state_size,
            "mixed_memory": self.mixed_memory,
            "proj_size": None if self._projection is None else self.output_size,
            "cell": self.cell.config(),
        }


def build_network(
    config: dict[str, Any], params: dict[str, np.ndarray], dtype: Any
) -> LiquidNetwork:
    """Build a network from `LiquidNetwork.config()` and `params()`; ParameterError if they
    disagree (missing arrays, wrong shapes, unknown options)."""
    try:
        kind = config["kind"]
        input_size = int(config["input_size"])
        cell_config = dict(config["cell"])
        wiring_config = config.get("wiring")
        mixed_memory = bool(config.get("mixed_memory", False))
        proj_size = config.get("proj_size")
    except (KeyError, TypeError, ValueError) as exc:
        raise ParameterError(f"malformed network config: {exc!r}") from exc
    wiring = None if wiring_config is None else Wiring.from_config(wiring_config)
    if wiring is not None and wiring.input_dim != input_size:
        raise ParameterError(f"wiring has {wiring.input_dim} inputs, network {input_size}")
    cell_params = strip_prefix(params, "rnn_cell.")
    cell = _build_cell(kind, wiring, config, cell_config, cell_params, input_size, dtype)
    lstm = None
    if mixed_memory:
        lstm = LSTMRuntime(input_size, cell.state_size, strip_prefix(params, "lstm."), dtype)
    projection = None
    if proj_size is not None:
        if kind != "cfc":
            raise ParameterError("an output projection (proj_size) exists only for CfC")
        projection = (
            require(params, "fc.weight", (int(proj_size), cell.output_size), dtype),
            require(params, "fc.bias", (int(proj_size),), dtype),
        )
    return LiquidNetwork(cell, lstm, projection)


def _build_cell(kind, wiring, config, cell_config, cell_params, input_size, dtype) -> Cell:
    try:
        if kind == "ltc":
            if wiring is None:
                raise ParameterError("an LTC network needs a wiring")
            return LTCRuntime(wiring, cell_params, dtype=dtype, **cell_config)
        if kind == "cfc" and wiring is not None:
            return WiredCfCRuntime(wiring, cell_params, dtype=dtype, **cell_config)
        if kind == "cfc":
            units = int(config["units"])
            return CfCRuntime(input_size, units, cell_params, dtype=dtype, **cell_config)
    except (TypeError, KeyError) as exc:
        raise ParameterError(f"bad {kind} cell config {cell_config}: {exc}") from exc
    raise ParameterError(f"unknown network kind {kind!r} (expected 'ltc' or 'cfc')")


def fold_input_normalization(
    config: dict[str, Any], params: dict[str, np.ndarray], mean: np.ndarray, std: np.ndarray
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Config and parameters of the same network fed raw x instead of z = (x - mean) / std.

    z = x * scale + shift enters affinely wherever the network reads its inputs (LTC input
    mapping, the first CfC layer or backbone layer, the mixed-memory LSTM), so the maps fold
    into those weights and biases: one less elementwise pass per step, same function.
    """
    config, params = copy.deepcopy(config), dict(params)
    scale, shift = 1.0 / std, -mean / std
    n = config["input_size"]

    def fold_linear(prefix: str, mask: np.ndarray | None = None) -> None:
        weight = params[f"{prefix}.weight"] * (1.0 if mask is None else mask)
        params[f"{prefix}.bias"] = params[f"{prefix}.bias"] + weight[:, :n] @ shift
        params[f"{prefix}.weight"] = np.concatenate([weight[:, :n] * scale, weight[:, n:]], axis=1)

    cell = config["cell"]
    if config["kind"] == "ltc":
        weight = params.get("rnn_cell.input_w", np.ones(n))
        bias = params.get("rnn_cell.input_b", np.zeros(n))  # "linear"/"none" lack these
        params["rnn_cell.input_w"], params["rnn_cell.input_b"] = (
            weight * scale,
            weight * shift + bias,
        )
        cell["input_mapping"] = "affine"
    elif config.get("wiring") is not None:
        wiring = Wiring.from_config(config["wiring"])
        sensory = np.abs(wiring.sensory_adjacency[:, wiring.neurons_of_layer(0)]).T
        mask = np.concatenate([sensory, np.ones((sensory.shape[0], sensory.shape[0]))], axis=1)
        for head in ("ff1", "ff2", "time_a", "time_b"):
            if f"rnn_cell.layer_0.{head}.weight" in params:
                fold_linear(f"rnn_cell.layer_0.{head}", mask if head in ("ff1", "ff2") else None)
    elif cell.get("backbone_layers", 1) > 0:
        fold_linear("rnn_cell.backbone.0")
    else:
        for head in ("ff1", "ff2", "time_a", "time_b"):
            if f"rnn_cell.{head}.weight" in params:
                fold_linear(f"rnn_cell.{head}")
    if config.get("mixed_memory"):
        fold_linear("lstm.input_map")
    return config, params
