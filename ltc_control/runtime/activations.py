"""Elementwise functions the cells share, numerically matching their torch counterparts.

All take and return numpy arrays of the caller's dtype; none allocates more than its result.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ltc_control.runtime.errors import ParameterError

# torch.nn.Softplus(beta=1, threshold=20) returns x itself above the threshold.
_SOFTPLUS_THRESHOLD = 20.0
_erf = np.frompyfunc(math.erf, 1, 1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function as 0.5 + 0.5 tanh(x/2): same values, no overflow for large |x|."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def softplus(x: np.ndarray) -> np.ndarray:
    """torch.nn.Softplus(): log(1 + e^x), and x itself where x > 20."""
    return np.where(
        x > _SOFTPLUS_THRESHOLD, x, np.log1p(np.exp(np.minimum(x, _SOFTPLUS_THRESHOLD)))
    )


def lecun_tanh(x: np.ndarray) -> np.ndarray:
    """ncps' LeCun activation: 1.7159 * tanh(0.666 x)."""
    return 1.7159 * np.tanh(0.666 * x)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, torch.nn.GELU()'s default; math.erf keeps it numpy-only and exact."""
    return (0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(x.dtype))).astype(x.dtype)


def silu(x: np.ndarray) -> np.ndarray:
    return x * sigmoid(x)


BACKBONE_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "lecun_tanh": lecun_tanh,
    "tanh": np.tanh,
    "relu": relu,
    "gelu": gelu,
    "silu": silu,
}


def backbone_activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    try:
        return BACKBONE_ACTIVATIONS[name]
    except KeyError:
        raise ParameterError(
            f"unknown backbone activation {name!r}; ncps supports {sorted(BACKBONE_ACTIVATIONS)}"
        ) from None
