"""Mixed-memory LSTM cell in numpy: ncps 1.0.1 `ncps.torch.lstm.LSTMCell`.

With `mixed_memory=True`, ncps runs this LSTM on the raw inputs before each liquid step and hands
its output state to the liquid cell as the hidden state (Lechner & Hasani 2020, "mixed memory").
Shapes (one sample): inputs (input_size,), h and c (hidden_size,). Gate order in the fused
weights is ncps': [input activation, input gate, forget gate (+1 bias), output gate].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ltc_control.runtime.activations import sigmoid
from ltc_control.runtime.parameters import Cell, require


class LSTMRuntime(Cell):
    """ncps `LSTMCell` forward pass (parameter names as in its state_dict, prefix-free)."""

    def __init__(
        self, input_size: int, hidden_size: int, params: dict[str, np.ndarray], dtype: Any
    ) -> None:
        self.input_size = input_size
        self.hidden_size = hidden_size
        shapes = {
            "input_map.weight": (4 * hidden_size, input_size),
            "input_map.bias": (4 * hidden_size,),
            "recurrent_map.weight": (4 * hidden_size, hidden_size),
        }
        self._raw = {name: require(params, name, shape, dtype) for name, shape in shapes.items()}
        self._input_weight_t = self._raw["input_map.weight"].T.copy()
        self._recurrent_weight_t = self._raw["recurrent_map.weight"].T.copy()
        self._bias = self._raw["input_map.bias"]

    def step(
        self, inputs: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        z = inputs @ self._input_weight_t + self._bias + h @ self._recurrent_weight_t
        i, ig, fg, og = np.split(z, 4)
        new_c = c * sigmoid(fg + 1.0) + np.tanh(i) * sigmoid(ig)
        new_h = np.tanh(new_c) * sigmoid(og)
        return new_h, new_c
