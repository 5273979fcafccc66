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

Cells step one sample: inputs (input_size,), state (hidden,), elapsed seconds > 0 (a float);
batches are loops over samples (`LiquidPolicy`), so per-sample elapsed times are exact. Weights
are fused, masked and transposed once in the constructor.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ltc_control.runtime.activations import backbone_activation
from ltc_control.runtime.errors import ParameterError
from ltc_control.runtime.parameters import Cell, require, strip_prefix
from ltc_control.runtime.wirings import Wiring

MODES = ("default", "pure", "no_gate")
_GATED_HEADS = ("ff1", "ff2", "time_a", "time_b")


class CfCRuntime(Cell):
    """ncps `CfCCell` forward pass (parameter names as its state_dict; backbone Linear layers
    are numbered 0..backbone_layers-1 as `backbone.<k>.weight/bias`)."""

    kind: ClassVar[str] = "cfc"
    CONFIG: ClassVar[dict[str, str]] = {
        "mode": "mode",
        "activation": "activation_name",
        "backbone_units": "backbone_units",
        "backbone_layers": "backbone_layers",
    }

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

    def head_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Fused head weights (fan_in, k) and bias (k,): columns [ff1, ff2, time_a/2, time_b/2]
        (pure: [ff1]), ff1/ff2 masked; rows [inputs, hidden] of a backbone-free layer."""
        if self._backbone:
            raise ParameterError("a CfC with a backbone has no per-input head weights")
        return self._heads_weight, self._heads_bias

    def step(
        self, inputs: np.ndarray, hx: np.ndarray, elapsed: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One sample, one step: returns (output, new_state), both the new hidden state."""
        x = np.concatenate([inputs, hx])
        for weight, bias in self._backbone:
            x = self._activation(x @ weight + bias)
        z = x @ self._heads_weight + self._heads_bias
        h = self.hidden_size
        if self.mode == "pure":
            ff1, a, w_tau = z, self._raw["A"][0], self._raw["w_tau"][0]
            new_hidden = -a * np.exp(-elapsed * (np.abs(w_tau) + np.abs(ff1))) * ff1 + a
            return new_hidden, new_hidden
        ff1 = np.tanh(z[:h])
        ff2 = np.tanh(z[h : 2 * h])
        # Halved time heads: 0.5 + 0.5 tanh(.) == sigmoid(time_a * dt + time_b).
        t_interp = 0.5 + 0.5 * np.tanh(z[2 * h : 3 * h] * elapsed + z[3 * h :])
        if self.mode == "no_gate":
            new_hidden = ff1 + t_interp * ff2
        else:
            new_hidden = ff1 * (1.0 - t_interp) + t_interp * ff2
        return new_hidden, new_hidden


class WiredCfCRuntime(Cell):
    """ncps `WiredCfCCell`: one masked, backbone-free CfC layer per wiring layer."""

    kind: ClassVar[str] = "cfc"
    CONFIG: ClassVar[dict[str, str]] = {"mode": "mode"}

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
        self._solve = _FusedLayers(self.layers, self.input_size, self.dtype)

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

    def step(
        self, inputs: np.ndarray, hx: np.ndarray, elapsed: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One sample, one step: returns (last layer's new state, new state)."""
        new_state = self._solve(inputs, hx, elapsed)
        return new_state[self.state_size - self.output_size :], new_state


class _GatedLayer:
    """default / no_gate layer in the fused solver. With T = tanh((time_a dt + time_b) / 2),
    t = sigmoid(time_a dt + time_b) = (1 + T) / 2, so the new state is linear in the basis
    [ff1, ff2, T ff1, T ff2]:
        default:  ff1 (1 - t) + t ff2 = ff1/2 + ff2/2 - T ff1/2 + T ff2/2
        no_gate:  ff1 + t ff2         = ff1   + ff2/2            + T ff2/2
    """

    def __init__(self, mode: str, weight: np.ndarray, h: int, scratch: np.ndarray, start: int):
        # Columns of `weight`: [ff1, ff2, time_a / 2, time_b / 2]; ours: [ff1, ff2, g, g] with
        # g = (time_a dt + time_b) / 2 filled in by set_elapsed (twice: one T per ff).
        self._time_a, self._time_b = weight[:, 2 * h : 3 * h], weight[:, 3 * h :]
        self._weight = np.zeros((weight.shape[0], 4 * h), dtype=weight.dtype)
        self._weight[:, : 2 * h] = weight[:, : 2 * h]
        self._inputs = scratch[:start]
        self._basis = scratch[start : start + 4 * h]
        self._tanh_ff, self._gates = self._basis[: 2 * h], self._basis[2 * h :]
        eye = np.eye(h, dtype=weight.dtype)
        ff1_weight, t_ff1_weight = (1.0, 0.0) if mode == "no_gate" else (0.5, -0.5)
        self.combine = np.concatenate([ff1_weight * eye, 0.5 * eye, t_ff1_weight * eye, 0.5 * eye])
        self.offset = np.zeros(h, dtype=weight.dtype)

    def set_elapsed(self, elapsed: float) -> None:
        h = self._time_a.shape[1]
        gate = self._time_a * elapsed + self._time_b
        self._weight[:, 2 * h : 3 * h] = gate
        self._weight[:, 3 * h :] = gate

    def __call__(self) -> None:
        np.dot(self._inputs, self._weight, out=self._basis)  # [ff1, ff2, T, T] pre-activations
        np.tanh(self._basis, out=self._basis)
        np.multiply(self._gates, self._tanh_ff, out=self._gates)


class _PureLayer:
    """pure layer in the fused solver: h' = A - A exp(-dt (|w_tau| + |ff1|)) ff1, i.e. the
    basis e ff1 (e = exp(.)) combined by diag(-A) plus the offset A."""

    def __init__(self, weight: np.ndarray, a: np.ndarray, w_tau: np.ndarray, scratch, start: int):
        h = weight.shape[1]
        self._weight, self._abs_w_tau = weight, np.abs(w_tau[0])
        self._inputs = scratch[:start]
        self._basis = scratch[start : start + h]
        self._decay = np.empty(h, dtype=weight.dtype)
        self.combine = np.diag(-a[0])
        self.offset = a[0].copy()

    def set_elapsed(self, elapsed: float) -> None:
        self._minus_elapsed = -elapsed
        self._decay_offset = -elapsed * self._abs_w_tau

    def __call__(self) -> None:
        np.dot(self._inputs, self._weight, out=self._basis)  # ff1
        np.abs(self._basis, out=self._decay)
        self._decay *= self._minus_elapsed
        self._decay += self._decay_offset
        np.exp(self._decay, out=self._decay)
        self._basis *= self._decay


class _FusedLayers:
    """All wired CfC layers of one sample in one scratch vector, [x | h_old | 1 | basis_0 | ...].

    Layer l reads the vector up to its own basis: its input (x, or the previous layer's basis
    through that layer's `combine` folded into the weights), its own old state, the constant 1
    (bias, plus the previous layer's offset); every other row is zero. The new state of all
    layers is one product of the bases with the block-diagonal `combine`, plus the offsets.
    Not thread-safe: one solver per cell, one step at a time.
    """

    def __init__(self, layers: list[CfCRuntime], input_size: int, dtype: np.dtype) -> None:
        sizes = [layer.hidden_size for layer in layers]
        units = sum(sizes)
        widths = [
            h if layer.mode == "pure" else 4 * h for layer, h in zip(layers, sizes, strict=True)
        ]
        self._n, self._units = input_size, units
        one = input_size + units
        self._scratch = np.zeros(one + 1 + sum(widths), dtype=dtype)
        self._scratch[one] = 1.0
        self._layers: list[_GatedLayer | _PureLayer] = []
        start, state_row, source, previous = one + 1, input_size, slice(0, input_size), None
        for layer, h, width in zip(layers, sizes, widths, strict=True):
            head_weight, head_bias = layer.head_weights()
            n_in = head_weight.shape[0] - h
            weight = np.zeros((start, head_weight.shape[1]), dtype=dtype)
            incoming = head_weight[:n_in]
            weight[source] = incoming if previous is None else previous.combine @ incoming
            weight[state_row : state_row + h] = head_weight[n_in:]
            weight[one] = head_bias if previous is None else head_bias + previous.offset @ incoming
            if layer.mode == "pure":
                raw = layer.params()
                previous = _PureLayer(weight, raw["A"], raw["w_tau"], self._scratch, start)
            else:
                previous = _GatedLayer(layer.mode, weight, h, self._scratch, start)
            self._layers.append(previous)
            source, start, state_row = slice(start, start + width), start + width, state_row + h
        self._bases = self._scratch[one + 1 :]
        self._combine = _block_diagonal([layer.combine for layer in self._layers])
        offset = np.concatenate([layer.offset for layer in self._layers])
        self._offset = offset if offset.any() else None  # skip adding zeros in the gated modes
        self._elapsed = None

    def __call__(self, x: np.ndarray, hx: np.ndarray, elapsed: float) -> np.ndarray:
        if elapsed != self._elapsed:
            for layer in self._layers:
                layer.set_elapsed(elapsed)
            self._elapsed = elapsed
        self._scratch[: self._n] = x
        self._scratch[self._n : self._n + self._units] = hx
        for layer in self._layers:
            layer()
        new_state = np.dot(self._bases, self._combine)
        if self._offset is not None:
            new_state += self._offset
        return new_state


def _block_diagonal(blocks: list[np.ndarray]) -> np.ndarray:
    rows, cols = sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)
    matrix = np.zeros((rows, cols), dtype=blocks[0].dtype)
    row = col = 0
    for block in blocks:
        matrix[row : row + block.shape[0], col : col + block.shape[1]] = block
        row, col = row + block.shape[0], col + block.shape[1]
    return matrix
