"""Liquid time-constant (LTC) cell in numpy: ncps 1.0.1 `LTCCell`, same parameters, same solver.

One step integrates the LTC ODE over `elapsed` seconds with `ode_unfolds` fused semi-implicit
Euler steps (Hasani et al., AAAI 2021, eq. 3), each

    v <- (cm/dt' * v + gleak*vleak + sum_i w_i s_i(v) erev_i) / (cm/dt' + gleak + sum_i w_i s_i(v) + eps)

with dt' = elapsed / ode_unfolds, synapse activation s(v_pre) = sigmoid(sigma * (v_pre - mu)),
sensory synapses from the (affine-mapped) inputs and recurrent synapses from the neurons, both
masked by the wiring. Positivity of w, sensory_w, cm, gleak follows ncps: implicit constraints
(ncps' `LTC` default) apply softplus in the forward pass; explicit constraints are the clipping
ncps applies after each optimizer step (`apply_weight_constraints`), applied here once at load.

Shapes: inputs (batch, input_dim), state (batch, units), elapsed (batch, 1) seconds, outputs
(batch, output_dim) = mapped motor neurons (ids 0..output_dim-1). All precomputation (masking,
softplus, sigmoid rescaling) happens in the constructor; `step` only does the per-step algebra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ltc_control.runtime.activations import softplus
from ltc_control.runtime.errors import ParameterError
from ltc_control.runtime.parameters import require
from ltc_control.runtime.wirings import Wiring

MAPPINGS = ("affine", "linear", "none")


@dataclass(frozen=True)
class _Synapses:
    """One synapse bank (sensory or recurrent), precomputed for two small matrix products.

    Only wired synapses k = (pre_k, post_k) are evaluated (masked ones contribute exactly 0 in
    ncps too). With sigmoid(a) = 0.5 + 0.5 tanh(a/2) (halving is exact):

        gate_k  = tanh(v_pre @ gather + offset)_k          = tanh(sigma_k (v[pre_k] - mu_k) / 2)
        currents = gate @ scatter + scatter_sum           = [sum_k w_k s_k erev_k, sum_k w_k s_k]

    per postsynaptic neuron, where `scatter` holds w*erev/2 and w/2 in the columns of post_k.
    """

    gather: np.ndarray  # (pre, K): sigma_k / 2 in row pre_k
    offset: np.ndarray  # (K,): -sigma_k mu_k / 2
    scatter: np.ndarray  # (K, 2 post): [w erev / 2 | w / 2] in column post_k
    scatter_sum: np.ndarray  # (2 post,): the constant halves, summed

    @classmethod
    def build(cls, w: np.ndarray, erev: np.ndarray, sigma: np.ndarray, mu: np.ndarray, mask):
        pre, post = np.nonzero(mask)
        k = np.arange(len(pre))
        n_pre, n_post = mask.shape
        gather = np.zeros((n_pre, len(pre)), dtype=w.dtype)
        gather[pre, k] = 0.5 * sigma[pre, post]
        scatter = np.zeros((len(pre), 2 * n_post), dtype=w.dtype)
        scatter[k, post] = 0.5 * w[pre, post] * erev[pre, post]
        scatter[k, n_post + post] = 0.5 * w[pre, post]
        offset = -0.5 * sigma[pre, post] * mu[pre, post]
        return cls(gather, offset, scatter, scatter.sum(axis=0))

    def with_input_map(self, weight: np.ndarray, bias: np.ndarray) -> _Synapses:
        """The same bank fed x * weight + bias instead of x (folded into gather/offset)."""
        return _Synapses(
            weight[:, None] * self.gather,
            bias @ self.gather + self.offset,
            self.scatter,
            self.scatter_sum,
        )

    def gated_currents(self, v_pre: np.ndarray) -> np.ndarray:
        """(batch, 2 post) currents without the constant `scatter_sum`."""
        return np.dot(np.tanh(np.dot(v_pre, self.gather) + self.offset), self.scatter)


class LTCRuntime:
    """ncps `LTCCell` forward pass in numpy (parameter names as in its state_dict)."""

    kind: ClassVar[str] = "ltc"

    def __init__(
        self,
        wiring: Wiring,
        params: dict[str, np.ndarray],
        *,
        ode_unfolds: int = 6,
        epsilon: float = 1e-8,
        input_mapping: str = "affine",
        output_mapping: str = "affine",
        implicit_param_constraints: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        if not wiring.is_built():
            raise ParameterError("the LTC wiring must be built (input_dim known)")
        if input_mapping not in MAPPINGS or output_mapping not in MAPPINGS:
            raise ParameterError(f"mappings must be one of {MAPPINGS}")
        if int(ode_unfolds) < 1:
            raise ParameterError(f"ode_unfolds must be >= 1, got {ode_unfolds}")
        self.wiring = wiring
        self.ode_unfolds = int(ode_unfolds)
        self.epsilon = float(epsilon)
        self.input_mapping = input_mapping
        self.output_mapping = output_mapping
        self.implicit_param_constraints = bool(implicit_param_constraints)
        self.dtype = np.dtype(dtype)
        self.input_size = wiring.input_dim
        self.state_size = wiring.units
        self.output_size = wiring.output_dim
        self.state_neuron_ids = list(range(wiring.units))
        self._raw = self._checked_params(params)
        self._precompute()

    # --- parameters ---------------------------------------------------------------------------
    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        n, h, m = self.input_size, self.state_size, self.output_size
        shapes = {"gleak": (h,), "vleak": (h,), "cm": (h,)}
        shapes |= {name: (h, h) for name in ("sigma", "mu", "w", "erev")}
        shapes |= {f"sensory_{name}": (n, h) for name in ("sigma", "mu", "w", "erev")}
        for prefix, mapping, size in (
            ("input", self.input_mapping, n),
            ("output", self.output_mapping, m),
        ):
            if mapping in ("affine", "linear"):
                shapes[f"{prefix}_w"] = (size,)
            if mapping == "affine":
                shapes[f"{prefix}_b"] = (size,)
        return shapes

    def _checked_params(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            name: require(params, name, shape, self.dtype)
            for name, shape in self._param_shapes().items()
        }

    def params(self) -> dict[str, np.ndarray]:
        """Raw parameters as ncps stores them (before softplus/clipping/masking)."""
        return {name: value.copy() for name, value in self._raw.items()}

    def config(self) -> dict[str, Any]:
        return {
            "ode_unfolds": self.ode_unfolds,
            "epsilon": self.epsilon,
            "input_mapping": self.input_mapping,
            "output_mapping": self.output_mapping,
            "implicit_param_constraints": self.implicit_param_constraints,
        }

    def _make_positive(self, value: np.ndarray) -> np.ndarray:
        if self.implicit_param_constraints:
            return softplus(value)
        return np.maximum(value, 0.0)

    def _mapping(self, prefix: str, size: int) -> tuple[np.ndarray, np.ndarray]:
        # "linear" has no bias and "none" neither weight nor bias: x*1 + 0 is exact.
        weight = self._raw.get(f"{prefix}_w", np.ones(size, self.dtype))
        bias = self._raw.get(f"{prefix}_b", np.zeros(size, self.dtype))
        return weight, bias

    def _precompute(self) -> None:
        p = self._raw
        self._recurrent = _Synapses.build(
            self._make_positive(p["w"]), p["erev"], p["sigma"], p["mu"], self.wiring.adjacency
        )
        input_w, input_b = self._mapping("input", self.input_size)
        self._sensory = _Synapses.build(
            self._make_positive(p["sensory_w"]),
            p["sensory_erev"],
            p["sensory_sigma"],
            p["sensory_mu"],
            self.wiring.sensory_adjacency,
        ).with_input_map(input_w, input_b)
        self._cm = self._make_positive(p["cm"])
        gleak = self._make_positive(p["gleak"])
        # Step-invariant parts of [numerator, denominator]: leak, eps, constant synapse halves.
        self._constant = np.concatenate([gleak * p["vleak"], gleak + self.epsilon])
        self._constant += self._recurrent.scatter_sum + self._sensory.scatter_sum
        self._output_w, self._output_b = self._mapping("output", self.output_size)

    # --- forward ------------------------------------------------------------------------------
    def step(
        self, inputs: np.ndarray, state: np.ndarray, elapsed: np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One step: inputs (B, n), state (B, units), elapsed seconds (B, 1) or scalar."""
        next_state = self._ode_solver(inputs, state, elapsed)
        outputs = next_state[:, : self.output_size] * self._output_w + self._output_b
        return outputs, next_state

    def _ode_solver(self, inputs: np.ndarray, v_pre: np.ndarray, elapsed) -> np.ndarray:
        """ncps' fused solver; the input mapping is folded into the sensory bank."""
        h = self.state_size
        cm_t = self._cm / (elapsed / self.ode_unfolds)
        # [numerator, denominator] terms that do not depend on v: leak, sensory synapses, cm/dt'.
        rest = self._sensory.gated_currents(inputs) + self._constant
        rest[:, h:] += cm_t
        for _ in range(self.ode_unfolds):
            terms = self._recurrent.gated_currents(v_pre) + rest
            terms[:, :h] += cm_t * v_pre
            v_pre = terms[:, :h] / terms[:, h:]
        return v_pre
