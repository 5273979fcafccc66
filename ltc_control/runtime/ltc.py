"""Liquid time-constant (LTC) cell in numpy: ncps 1.0.1 `LTCCell`, same parameters, same solver.

One step integrates the LTC ODE over `elapsed` seconds with `ode_unfolds` fused semi-implicit
Euler steps (Hasani et al., AAAI 2021, eq. 3), each

    v <- (cm/dt' v + gleak vleak + sum_i w_i s_i erev_i) / (cm/dt' + gleak + sum_i w_i s_i + eps)

with dt' = elapsed / ode_unfolds, synapse activation s(v_pre) = sigmoid(sigma * (v_pre - mu)),
sensory synapses from the (affine-mapped) inputs and recurrent synapses from the neurons, both
masked by the wiring. Positivity of w, sensory_w, cm, gleak follows ncps: implicit constraints
(ncps' `LTC` default) apply softplus in the forward pass; explicit constraints
(`implicit_param_constraints=False`) use the raw values, which ncps keeps >= 0 by clipping after
each optimizer step (`apply_weight_constraints`). A negative raw value there means the clip was
not applied after the last update: ncps would compute with it unclipped, an LTC no training run
produced, so the runtime refuses it (ParameterError naming the parameter) instead of guessing.
An input/output mapping of None is ncps' "none" (no weight, no bias).

Shapes (one sample per step; batches loop over samples): inputs (input_dim,), state (units,),
elapsed seconds > 0, outputs (output_dim,) = mapped motor neurons (ids 0..output_dim-1).
All precomputation (masking, softplus, sigmoid rescaling, input mapping) happens in the
constructor; `step` only does the per-step algebra, in preallocated buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ltc_control.runtime.activations import softplus
from ltc_control.runtime.errors import ParameterError
from ltc_control.runtime.parameters import Cell, require
from ltc_control.runtime.wirings import Wiring

MAPPINGS = ("affine", "linear", "none")
_POSITIVE = ("w", "sensory_w", "cm", "gleak")  # conductances and capacitance, >= 0 in ncps


@dataclass(frozen=True)
class _SynapseBank:
    """One synapse bank (sensory or recurrent) as two matrices for two small products.

    Only wired synapses k = (pre_k, post_k) are evaluated; masked ones add exactly 0 in ncps.
    With sigmoid(a) = 0.5 + 0.5 tanh(a / 2) (halving is exact in floating point):
        [v_pre, 1] @ gather = sigma_k (v_pre[pre_k] - mu_k) / 2     (last row: the -mu offset)
        tanh(.) @ scatter + sums = [sum_k w_k s_k erev_k, sum_k w_k s_k] per postsynaptic neuron
    """

    gather: np.ndarray  # (pre + 1, K)
    scatter: np.ndarray  # (K, 2 post)
    sums: np.ndarray  # (2 post,): the constant halves

    @classmethod
    def build(cls, w, erev, sigma, mu, mask) -> _SynapseBank:
        pre, post = np.nonzero(mask)
        k = np.arange(len(pre))
        n_pre, n_post = mask.shape
        gather = np.zeros((n_pre + 1, len(pre)), dtype=w.dtype)
        gather[pre, k] = 0.5 * sigma[pre, post]
        gather[n_pre] = -0.5 * sigma[pre, post] * mu[pre, post]
        scatter = np.zeros((len(pre), 2 * n_post), dtype=w.dtype)
        scatter[k, post] = 0.5 * w[pre, post] * erev[pre, post]
        scatter[k, n_post + post] = 0.5 * w[pre, post]
        return cls(gather, scatter, scatter.sum(axis=0))

    def with_input_map(self, weight: np.ndarray, bias: np.ndarray) -> _SynapseBank:
        """The same bank fed x * weight + bias instead of x."""
        gather = self.gather.copy()
        gather[-1] += bias @ self.gather[:-1]
        gather[:-1] *= weight[:, None]
        return _SynapseBank(gather, self.scatter, self.sums)


class _FusedSolver:
    """ncps' fused semi-implicit solver for one sample, in two preallocated scratch vectors.

    sensory = [x | 1 | sensory gates]          recurrent = [v | 1 | gates]
    Per step, once:  gates_s = tanh(sensory[:n+1] @ gather_s)
                     step_row = gates_s @ scatter_s + leak, eps, synapse halves, [0 | cm/dt']
    Per unfold:      gates = tanh(recurrent[:units+1] @ gather)
                     [numerator | denominator] = recurrent @ update
                     v = numerator / denominator
    `update` stacks: cm/dt' on the diagonal (v rows, numerator columns), `step_row` (the 1
    row), and `scatter` (gate rows), so numerator = cm/dt' v + gleak vleak + sum w s erev +
    sensory, denominator = cm/dt' + gleak + sum w s + sensory + eps, as in ncps. Not
    thread-safe: one solver per cell, one step at a time.
    """

    def __init__(
        self,
        sensory: _SynapseBank,
        recurrent: _SynapseBank,
        constant: np.ndarray,
        cm: np.ndarray,
        ode_unfolds: int,
    ) -> None:
        dtype = cm.dtype
        self._gather_s, self._scatter_s, self._gather = (
            sensory.gather,
            sensory.scatter,
            recurrent.gather,
        )
        n, units = self._gather_s.shape[0] - 1, cm.shape[0]
        self._n, self._units, self._unfolds = n, units, ode_unfolds
        self._cm, self._constant = cm, constant + sensory.sums + recurrent.sums
        self._sensory = np.ones(n + 1 + self._gather_s.shape[1], dtype=dtype)
        self._recurrent = np.ones(units + 1 + self._gather.shape[1], dtype=dtype)
        self._update = np.zeros((len(self._recurrent), 2 * units), dtype=dtype)
        self._update[units + 1 :] = recurrent.scatter
        self._terms = np.empty(2 * units, dtype=dtype)
        self._diagonal = (np.arange(units), np.arange(units))
        self._step_constant = np.empty(2 * units, dtype=dtype)
        self._elapsed = None

    def _set_elapsed(self, elapsed: float) -> None:
        cm_t = self._cm / (elapsed / self._unfolds)
        self._update[self._diagonal] = cm_t
        self._step_constant[:] = self._constant
        self._step_constant[self._units :] += cm_t
        self._elapsed = elapsed

    def __call__(self, x: np.ndarray, v: np.ndarray, elapsed: float) -> np.ndarray:
        n, units = self._n, self._units
        if elapsed != self._elapsed:
            self._set_elapsed(elapsed)
        sensory, recurrent, terms, step_row = (
            self._sensory,
            self._recurrent,
            self._terms,
            self._update[units],
        )
        sensory[:n] = x
        gates_s = sensory[n + 1 :]
        np.dot(sensory[: n + 1], self._gather_s, out=gates_s)
        np.tanh(gates_s, out=gates_s)
        np.dot(gates_s, self._scatter_s, out=step_row)
        step_row += self._step_constant
        recurrent[:units] = v
        v_aug, gates, v_new = recurrent[: units + 1], recurrent[units + 1 :], recurrent[:units]
        numerator, denominator = terms[:units], terms[units:]
        for _ in range(self._unfolds):
            np.dot(v_aug, self._gather, out=gates)
            np.tanh(gates, out=gates)
            np.dot(recurrent, self._update, out=terms)
            np.divide(numerator, denominator, out=v_new)
        return v_new.copy()


class LTCRuntime(Cell):
    """ncps `LTCCell` forward pass in numpy (parameter names as in its state_dict)."""

    kind: ClassVar[str] = "ltc"
    CONFIG: ClassVar[dict[str, str]] = {
        key: key
        for key in (
            "ode_unfolds",
            "epsilon",
            "input_mapping",
            "output_mapping",
            "implicit_param_constraints",
        )
    }

    def __init__(
        self,
        wiring: Wiring,
        params: dict[str, np.ndarray],
        *,
        ode_unfolds: int = 6,
        epsilon: float = 1e-8,
        input_mapping: str | None = "affine",
        output_mapping: str | None = "affine",
        implicit_param_constraints: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        if not wiring.is_built():
            raise ParameterError("the LTC wiring must be built (input_dim known)")
        input_mapping = "none" if input_mapping is None else input_mapping  # ncps: no mapping
        output_mapping = "none" if output_mapping is None else output_mapping
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
        checked = {
            name: require(params, name, shape, self.dtype)
            for name, shape in self._param_shapes().items()
        }
        if not self.implicit_param_constraints:
            negative = [name for name in _POSITIVE if (checked[name] < 0).any()]
            if negative:
                raise ParameterError(
                    f"explicit constraints (implicit_param_constraints=False) with negative "
                    f"{', '.join(negative)}: ncps keeps these >= 0 only by clipping after each "
                    "optimizer step; call the module's rnn_cell.apply_weight_constraints() "
                    "before converting"
                )
        return checked

    def _make_positive(self, value: np.ndarray) -> np.ndarray:
        # Explicit constraints: the raw values, already >= 0 (_checked_params), as ncps uses them.
        return softplus(value) if self.implicit_param_constraints else value

    def _mapping(self, prefix: str, size: int) -> tuple[np.ndarray, np.ndarray]:
        # "linear" has no bias and "none" neither weight nor bias: x*1 + 0 is exact.
        weight = self._raw.get(f"{prefix}_w", np.ones(size, self.dtype))
        bias = self._raw.get(f"{prefix}_b", np.zeros(size, self.dtype))
        return weight, bias

    def _precompute(self) -> None:
        p = self._raw
        recurrent = _SynapseBank.build(
            self._make_positive(p["w"]), p["erev"], p["sigma"], p["mu"], self.wiring.adjacency
        )
        sensory = _SynapseBank.build(
            self._make_positive(p["sensory_w"]),
            p["sensory_erev"],
            p["sensory_sigma"],
            p["sensory_mu"],
            self.wiring.sensory_adjacency,
        ).with_input_map(*self._mapping("input", self.input_size))
        gleak = self._make_positive(p["gleak"])
        leak = np.concatenate([gleak * p["vleak"], gleak + self.epsilon])
        cm = self._make_positive(p["cm"])
        self._solve = _FusedSolver(sensory, recurrent, leak, cm, self.ode_unfolds)
        self._output_w, self._output_b = self._mapping("output", self.output_size)

    # --- forward ------------------------------------------------------------------------------
    def step(
        self, inputs: np.ndarray, state: np.ndarray, elapsed: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One sample, one step: inputs (n,), state (units,), elapsed seconds > 0."""
        next_state = self._solve(inputs, state, elapsed)
        outputs = next_state[: self.output_size] * self._output_w + self._output_b
        return outputs, next_state
