"""Closed-form continuous-time (CfC) cells in numpy: ncps 1.0.1 `CfCCell` and `WiredCfCCell`.

`CfCRuntime` is one CfC layer (Hasani et al., Nature MI 2022, eq. 10): from x = [input, h],
an optional backbone MLP, then heads ff1, ff2, time_a, time_b and, by mode,

    default:  h' = ff1 * (1 - t) + t * ff2,   t = sigmoid(time_a * dt + time_b)
    no_gate:  h' = ff1 + t * ff2
    pure:     h' = A - A * exp(-dt * (|w_tau| + |ff1|)) * ff1     (ff1 without tanh)

with ff1 = tanh(.), ff2 = tanh(.) in the gated modes. A sparsity mask (wired mode) masks only
ff1/ff2, as ncps does. `WiredCfCRuntime` runs one such layer per wiring layer (NCP: inter,
command, motor), each fed by the previous layer's new state; its state is the layers' states
concatenated in layer order and its output is the last layer's state.

Shapes: inputs (batch, input_size), state (batch, hidden), elapsed (batch, 1) seconds or a
scalar. Weights are fused and transposed once in the constructor.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ltc_control.runtime.activations import backbone_activation
from ltc_control.runtime.errors import ParameterError
from ltc_control.runtime.parameters import require, strip_prefix
from ltc_control.runtime.wirings import Wiring

MODES = ("default", "pure", "no_gate")
_GATED_HEADS = ("ff1", "ff2", "time_a", "time_b")


class CfCRuntime:
    """ncps `CfCCell` forward pass (parameter names as its state_dict; backbone Linear layers
    are numbered 0..backbone_layers-1 as `backbone.<k>.weight/bias`)."""

    kind: ClassVar[str] = "cfc"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        params: dict[str, np.ndarray],
        *,
        mode: str = "default",
        activation: str = "lecun_tanh",
        backbone_units: int = 128,
        backbone_layers: int = 1,
        sparsity_mask: np.ndarray | None = None,
        dtype: Any = np.float64,
    ) -> None:
        if mode not in MODES:
            raise ParameterError(f"unknown CfC mode {mode!r}, valid: {MODES}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.state_size = self.output_size = self.hidden_size
        self.mode = mode
        self.activation_name = activation
        self._activation = backbone_activation(activation)
        self.backbone_layers = int(backbone_layers)
        self.backbone_units = int(backbone_units)
        self.dtype = np.dtype(dtype)
        self.state_neuron_ids = list(range(self.hidden_size))
        self._raw = {
            name: require(params, name, shape, self.dtype)
            for name, shape in self._param_shapes().items()
        }
        self._backbone = [
            (self._raw[f"backbone.{k}.weight"].T.copy(), self._raw[f"backbone.{k}.bias"])
            for k in range(self.backbone_layers)
        ]
        self._heads_weight, self._heads_bias = self._fused_heads(sparsity_mask)
        self.combine = self._combine_matrix()

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        h, fan_in = self.hidden_size, self.input_size + self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {}
        for k in range(self.backbone_layers):
            shapes[f"backbone.{k}.weight"] = (self.backbone_units, fan_in)
            shapes[f"backbone.{k}.bias"] = (self.backbone_units,)
            fan_in = self.backbone_units
        heads = ("ff1",) if self.mode == "pure" else _GATED_HEADS
        for head in heads:
            shapes[f"{head}.weight"] = (h, fan_in)
            shapes[f"{head}.bias"] = (h,)
        if self.mode == "pure":
            shapes["w_tau"] = shapes["A"] = (1, h)
        return shapes

    def params(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self._raw.items()}

    def config(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "activation": self.activation_name,
            "backbone_units": self.backbone_units,
            "backbone_layers": self.backbone_layers,
        }

    def _fused_heads(self, sparsity_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """One (fan_in, heads*h) matrix for all heads: ff1/ff2 masked (ncps masks only those),
        time heads halved so that sigmoid(a) = 0.5 + 0.5 tanh(a/2) needs no extra scaling."""
        mask = 1.0 if sparsity_mask is None else np.abs(sparsity_mask).T.astype(self.dtype)
        heads = ("ff1",) if self.mode == "pure" else _GATED_HEADS
        scale = {"ff1": mask, "ff2": mask, "time_a": 0.5, "time_b": 0.5}
        weight = np.concatenate([self._raw[f"{h}.weight"] * scale[h] for h in heads], axis=0)
        bias_scale = {"ff1": 1.0, "ff2": 1.0, "time_a": 0.5, "time_b": 0.5}
        bias = np.concatenate([self._raw[f"{h}.bias"] * bias_scale[h] for h in heads])
        return weight.T.copy(), bias

    def _combine_matrix(self) -> np.ndarray:
        """new_hidden = basis @ combine: the mode's last step is linear in the basis."""
        eye = np.eye(self.hidden_size, dtype=self.dtype)
        if self.mode == "pure":
            return eye
        ff1_weight = 1.0 if self.mode == "no_gate" else 0.5
        return np.concatenate([ff1_weight * eye, 0.5 * eye, 0.5 * eye])

    def step(
        self, inputs: np.ndarray, hx: np.ndarray, elapsed: np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One step: returns (output, new_state); both are the new hidden state."""
        x = np.concatenate([inputs, hx], axis=1)
        for weight, bias in self._backbone:
            x = self._activation(x @ weight + bias)
        new_hidden = self.basis(x @ self._heads_weight + self._heads_bias, elapsed) @ self.combine
        return new_hidden, new_hidden

    def basis(self, heads: np.ndarray, elapsed: np.ndarray | float) -> np.ndarray:
        """The mode's solution as a basis whose `combine` combination is the new hidden state.

        `heads` (batch, 4h) = [ff1, ff2, time_a/2, time_b/2] pre-activations (pure: ff1 only);
        it is overwritten. With T = tanh((time_a dt + time_b) / 2), t = sigmoid(time_a dt +
        time_b) = (1 + T) / 2, so both gated modes are linear in [ff1, ff2, T * (...)].
        """
        h = self.hidden_size
        if self.mode == "pure":
            # h' = A - A exp(-dt (|w_tau| + |ff1|)) ff1
            ff1, a = heads, self._raw["A"]
            return a - a * np.exp(-elapsed * (np.abs(self._raw["w_tau"]) + np.abs(ff1))) * ff1
        heads[:, 2 * h : 3 * h] *= elapsed
        heads[:, 2 * h : 3 * h] += heads[:, 3 * h :]
        basis = np.tanh(heads[:, : 3 * h])  # [ff1, ff2, T]
        ff1, ff2, gate = basis[:, :h], basis[:, h : 2 * h], basis[:, 2 * h :]
        if self.mode == "no_gate":
            gate *= ff2  # h' = ff1 + t ff2 = ff1 + ff2/2 + T ff2/2
        else:
            gate *= ff2 - ff1  # h' = ff1 (1 - t) + t ff2 = ff1/2 + ff2/2 + T (ff2 - ff1)/2
        return basis

    def split_heads(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Backbone-free layers: (input rows, recurrent rows, bias) of the fused head weights."""
        if self._backbone:
            raise ParameterError("a CfC with a backbone has no per-input head weights")
        n = self.input_size
        return self._heads_weight[:n], self._heads_weight[n:], self._heads_bias


class WiredCfCRuntime:
    """ncps `WiredCfCCell`: one masked, backbone-free CfC layer per wiring layer."""

    kind: ClassVar[str] = "cfc"

    def __init__(
        self,
        wiring: Wiring,
        params: dict[str, np.ndarray],
        *,
        mode: str = "default",
        dtype: Any = np.float64,
    ) -> None:
        if not wiring.is_built():
            raise ParameterError("the CfC wiring must be built (input_dim known)")
        self.wiring = wiring
        self.mode = mode
        self.dtype = np.dtype(dtype)
        self.input_size = wiring.input_dim
        self.state_size = wiring.units
        self.layers: list[CfCRuntime] = []
        self.state_neuron_ids: list[int] = []
        self.layer_masks: list[np.ndarray] = []  # (fan_in, layer units) per layer, 0/1
        in_features = wiring.input_dim
        for index in range(wiring.num_layers):
            units = wiring.neurons_of_layer(index)
            layer_params = strip_prefix(params, f"layer_{index}.")
            self.layer_masks.append(self._layer_mask(index, units))
            try:
                layer = CfCRuntime(
                    in_features,
                    len(units),
                    layer_params,
                    mode=mode,
                    backbone_units=0,
                    backbone_layers=0,
                    sparsity_mask=self.layer_masks[-1],
                    dtype=dtype,
                )
            except ParameterError as exc:
                raise ParameterError(f"wiring layer {index}: {exc}") from exc
            self.layers.append(layer)
            self.state_neuron_ids += units
            in_features = len(units)
        self.output_size = self.layers[-1].hidden_size
        self._fuse_layers()

    def _fuse_layers(self) -> None:
        """Precompute, once, what `step` needs: every layer's recurrent/bias head terms come from
        the old state in one product; each layer reads the previous layer's *basis* through
        combine @ input weights; one product assembles all new states at the end."""
        heads = [layer.split_heads() for layer in self.layers]
        widths = [rec.shape[1] for _, rec, _ in heads]
        self._recurrent_weight = _block_diagonal([rec for _, rec, _ in heads])
        self._recurrent_bias = np.concatenate([bias for _, _, bias in heads])
        self._head_columns = [
            slice(a, b)
            for a, b in zip(np.cumsum([0, *widths[:-1]]), np.cumsum(widths), strict=True)
        ]
        self._input_weights = [heads[0][0]] + [
            previous.combine @ weight
            for previous, (weight, _, _) in zip(self.layers, heads[1:], strict=False)
        ]
        self._combine_all = _block_diagonal([layer.combine for layer in self.layers])

    def _layer_mask(self, index: int, units: list[int]) -> np.ndarray:
        """(fan_in, units) mask as ncps builds it: wiring synapses in, all-to-all recurrent."""
        if index == 0:
            incoming = self.wiring.sensory_adjacency[:, units]
        else:
            previous = self.wiring.neurons_of_layer(index - 1)
            incoming = self.wiring.adjacency[previous][:, units]
        return np.concatenate([incoming, np.ones((len(units), len(units)))], axis=0)

    def params(self) -> dict[str, np.ndarray]:
        return {
            f"layer_{index}.{name}": value
            for index, layer in enumerate(self.layers)
            for name, value in layer.params().items()
        }

    def config(self) -> dict[str, Any]:
        return {"mode": self.mode}

    def step(
        self, inputs: np.ndarray, hx: np.ndarray, elapsed: np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        recurrent = hx @ self._recurrent_weight + self._recurrent_bias
        basis = inputs
        bases = []
        for layer, weight, columns in zip(
            self.layers, self._input_weights, self._head_columns, strict=True
        ):
            basis = layer.basis(basis @ weight + recurrent[:, columns], elapsed)
            bases.append(basis)
        new_state = np.concatenate(bases, axis=1) @ self._combine_all
        return new_state[:, self.state_size - self.output_size :], new_state


def _block_diagonal(blocks: list[np.ndarray]) -> np.ndarray:
    rows, cols = sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)
    matrix = np.zeros((rows, cols), dtype=blocks[0].dtype)
    row = col = 0
    for block in blocks:
        matrix[row : row + block.shape[0], col : col + block.shape[1]] = block
        row, col = row + block.shape[0], col + block.shape[1]
    return matrix
