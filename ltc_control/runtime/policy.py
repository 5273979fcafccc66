"""A stateful liquid policy: raw sensor values in, raw commands out, hidden state kept inside.

`LiquidPolicy.step(x, dt)` takes un-normalized inputs (units: `input_units`), normalizes them
((x - input_mean) / input_std), advances the network by `dt` seconds and returns un-normalized
outputs (y * output_std + output_mean, units: `output_units`). Shapes: x (n_in,) for a single
robot or (batch, n_in) for a batch; dt a positive scalar, or (batch,) per-sample elapsed times.
The state has shape (batch, units); `reset(batch_size)` zeroes it (ncps' initial state).

Every input is checked before it touches the state: wrong size, NaN/Inf, or a non-positive /
non-finite dt raise `RuntimeInputError` and leave the state unchanged. A batch is stepped sample
by sample, so each sample gets exactly its own dt. A policy is not thread-safe (its cells step
in preallocated scratch buffers): use one policy per thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ltc_control.runtime.errors import ParameterError, RuntimeInputError
from ltc_control.runtime.network import LiquidNetwork, build_network, fold_input_normalization
from ltc_control.runtime.wirings import Wiring


@dataclass(frozen=True)
class Normalization:
    """Affine maps between raw units and model space: z = (x - input_mean) / input_std,
    y = y_model * output_std + output_mean. Arrays of the input/output sizes; std > 0."""

    input_mean: np.ndarray
    input_std: np.ndarray
    output_mean: np.ndarray
    output_std: np.ndarray

    @classmethod
    def identity(cls, input_size: int, output_size: int) -> Normalization:
        return cls(
            np.zeros(input_size), np.ones(input_size), np.zeros(output_size), np.ones(output_size)
        )

    def checked(self, input_size: int, output_size: int, dtype: Any) -> Normalization:
        """A copy in `dtype`, or ParameterError if sizes or values are unusable."""
        arrays = {}
        for name, size in (
            ("input_mean", input_size),
            ("input_std", input_size),
            ("output_mean", output_size),
            ("output_std", output_size),
        ):
            value = np.asarray(getattr(self, name), dtype=dtype)
            if value.shape != (size,):
                raise ParameterError(
                    f"normalization {name} has shape {value.shape}, need ({size},)"
                )
            if not np.isfinite(value).all():
                raise ParameterError(f"normalization {name} contains NaN or Inf")
            if name.endswith("std") and not (value > 0).all():
                raise ParameterError(f"normalization {name} must be > 0 everywhere")
            arrays[name] = value
        return Normalization(**arrays)


class LiquidPolicy:
    """Normalization + liquid network + hidden state, with named, unit-carrying inputs/outputs."""

    def __init__(
        self,
        network: LiquidNetwork,
        *,
        input_names: Sequence[str],
        output_names: Sequence[str],
        input_units: Sequence[str] | None = None,
        output_units: Sequence[str] | None = None,
        normalization: Normalization | None = None,
        model_id: str = "unnamed",
        description: str = "",
    ) -> None:
        self.network = network
        self.input_names = _names("input_names", input_names, network.input_size)
        self.output_names = _names("output_names", output_names, network.output_size)
        self.input_units = _names(
            "input_units", input_units or ["1"] * network.input_size, network.input_size
        )
        self.output_units = _names(
            "output_units", output_units or ["1"] * network.output_size, network.output_size
        )
        normalization = normalization or Normalization.identity(
            network.input_size, network.output_size
        )
        self.normalization = normalization.checked(
            network.input_size, network.output_size, network.dtype
        )
        self._raw_network = self._with_normalization_folded()
        self.model_id = str(model_id)
        self.description = str(description)
        self.reset()

    def with_network(self, network: LiquidNetwork) -> LiquidPolicy:
        """The same names, units, normalization and id around another network (e.g. the same
        parameters in another dtype), with a zero state."""
        return LiquidPolicy(
            network,
            input_names=self.input_names,
            output_names=self.output_names,
            input_units=self.input_units,
            output_units=self.output_units,
            normalization=self.normalization,
            model_id=self.model_id,
            description=self.description,
        )

    def _with_normalization_folded(self) -> LiquidNetwork:
        """The network fed raw inputs (input normalization folded into its first weights)."""
        norm = self.normalization
        if not norm.input_mean.any() and (norm.input_std == 1).all():
            return self.network
        config, params = fold_input_normalization(
            self.network.config(), self.network.params(), norm.input_mean, norm.input_std
        )
        return build_network(config, params, self.dtype)

    # --- structure ----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.network.kind

    @property
    def dtype(self) -> np.dtype:
        return self.network.dtype

    @property
    def wiring(self) -> Wiring | None:
        """The wiring (groups, adjacency with polarity); None for an unwired CfC."""
        return self.network.wiring

    @property
    def neuron_ids(self) -> list[int]:
        """Wiring neuron id of each state entry (WiredCfC orders its state layer by layer)."""
        return list(self.network.cell.state_neuron_ids)

    @property
    def neuron_groups(self) -> list[str]:
        """Group of each state entry: "inter"/"command"/"motor", or "hidden" without wiring."""
        if self.wiring is None:
            return ["hidden"] * self.network.state_size
        return [self.wiring.neuron_group(i) for i in self.neuron_ids]

    @property
    def neuron_names(self) -> list[str]:
        """Name of each state entry, e.g. "command_5" (group and wiring neuron id)."""
        return [
            f"{group}_{i}" for group, i in zip(self.neuron_groups, self.neuron_ids, strict=True)
        ]

    # --- state --------------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return len(self._h)

    @property
    def state(self) -> np.ndarray:
        """Hidden state, (batch, units), model space; a copy."""
        return np.stack(self._h)

    @property
    def memory_state(self) -> np.ndarray | None:
        """Mixed-memory LSTM cell state (batch, units), or None without mixed memory."""
        return np.stack(self._c) if self.network.mixed_memory else None

    def reset(self, batch_size: int = 1) -> None:
        """Zero the state (and LSTM memory) for `batch_size` parallel sequences."""
        if int(batch_size) < 1:
            raise RuntimeInputError(f"batch_size must be >= 1, got {batch_size}")
        zeros = np.zeros(self.network.state_size, dtype=self.dtype)
        # One state vector per sample: the cells step single samples (see `_advance`).
        self._h = [zeros.copy() for _ in range(int(batch_size))]
        self._c = [zeros.copy() if self.network.mixed_memory else None for _ in self._h]

    # --- stepping -----------------------------------------------------------------------------
    def step(self, x: Any, dt: Any) -> np.ndarray:
        """Raw inputs (n_in,) or (batch, n_in), dt seconds -> raw outputs of the same rank."""
        elapsed = self._checked_elapsed(dt)
        outputs = self._advance(self._raw_network, self._checked_inputs(x), elapsed)
        return outputs * self.normalization.output_std + self.normalization.output_mean

    def step_normalized(self, z: Any, dt: Any) -> np.ndarray:
        """The network alone (model space in and out), advancing the same state as `step`."""
        elapsed = self._checked_elapsed(dt)
        return self._advance(self.network, self._checked_inputs(z), elapsed)

    def run_sequence(self, xs: Any, dts: Any) -> np.ndarray:
        """Step through xs (T, n_in) or (T, batch, n_in) with dts scalar, (T,) or (T, batch),
        continuing from the current state; returns raw outputs (T, n_out) / (T, batch, n_out)."""
        xs = np.asarray(xs)
        if xs.ndim not in (2, 3):
            raise RuntimeInputError(f"xs must be (T, n_in) or (T, batch, n_in), got {xs.shape}")
        try:
            dts = np.asarray(dts, dtype=float)
        except (TypeError, ValueError) as exc:
            raise RuntimeInputError(f"dts are not numeric: {exc}") from exc
        if dts.ndim == 0:
            dts = np.full(len(xs), float(dts))
        if len(dts) != len(xs):
            raise RuntimeInputError(f"{len(xs)} inputs but {len(dts)} elapsed times")
        # Every step is checked before the first one changes the state: a bad sample part-way
        # through raises with the state as it was before the call.
        checked = [
            self._checked_step(t, x, dt) for t, (x, dt) in enumerate(zip(xs, dts, strict=True))
        ]
        outputs = np.stack([self._advance(self._raw_network, x, dt) for x, dt in checked])
        return outputs * self.normalization.output_std + self.normalization.output_mean

    def _checked_step(self, t: int, x: Any, dt: Any) -> tuple[np.ndarray, float | list[float]]:
        try:
            return self._checked_inputs(x), self._checked_elapsed(dt)
        except RuntimeInputError as exc:
            raise RuntimeInputError(f"step {t} of the sequence: {exc}") from exc

    def _advance(
        self, network: LiquidNetwork, inputs: np.ndarray, elapsed: float | list[float]
    ) -> np.ndarray:
        """Checked inputs (n_in,) or (batch, n_in) and elapsed times -> model-space outputs. A
        batch is a loop over samples, each with its own elapsed time (exact per-sample spans)."""
        step, h, c = network.step, self._h, self._c
        if inputs.ndim == 1:
            single = elapsed[0] if isinstance(elapsed, list) else elapsed  # dt of shape (1,)
            outputs, h[0], c[0] = step(inputs, h[0], c[0], single)
            return outputs
        times = elapsed if isinstance(elapsed, list) else [elapsed] * len(h)
        rows = []
        for b, (x, t) in enumerate(zip(inputs, times, strict=True)):
            outputs, h[b], c[b] = step(x, h[b], c[b], t)
            rows.append(outputs)
        return np.stack(rows)

    def _checked_inputs(self, x: Any) -> np.ndarray:
        """Inputs in the model dtype: (n_in,) for a single vector at batch 1, else (batch, n_in)."""
        try:
            inputs = np.asarray(x, dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise RuntimeInputError(f"inputs are not numeric: {exc}") from exc
        batch, n = len(self._h), self.network.input_size
        if (inputs.shape != (n,) or batch != 1) and inputs.shape != (batch, n):
            raise RuntimeInputError(
                f"inputs have shape {np.shape(x)}; this policy takes ({n},) "
                f"or ({batch}, {n}) [{', '.join(self.input_names)}]"
                + ("" if batch == 1 else "; call reset(batch_size) to change batch")
            )
        flat = inputs.reshape(-1) if inputs.ndim > 1 else inputs
        # One dot product catches NaN/Inf cheaply; only its overflow needs the full check.
        if not math.isfinite(flat.dot(flat)) and not np.isfinite(flat).all():
            bad = sorted({self.input_names[j % n] for j in np.flatnonzero(~np.isfinite(flat))})
            raise RuntimeInputError(f"inputs contain NaN or Inf in {bad}")
        return inputs

    def _checked_elapsed(self, dt: Any) -> float | list[float]:
        """dt as seconds: one float for all samples, or a list with one per sample. Only real
        numbers are times: a bool (True would be 1 s) or a string is refused."""
        if type(dt) is float or (isinstance(dt, float | int) and not isinstance(dt, bool)):
            if not (dt > 0 and math.isfinite(dt)):
                raise RuntimeInputError(f"dt must be a finite time > 0 s, got {dt}")
            return float(dt)
        try:
            elapsed = np.asarray(dt)
            if elapsed.dtype.kind not in "iuf":
                raise TypeError(f"{dt!r} is of type {elapsed.dtype}, not a number of seconds")
            elapsed = elapsed.astype(float)
        except (TypeError, ValueError) as exc:
            raise RuntimeInputError(f"dt is not numeric: {exc}") from exc
        if elapsed.ndim == 0:
            return self._checked_elapsed(float(elapsed))
        if elapsed.shape != (self.batch_size,):
            raise RuntimeInputError(
                f"dt has shape {elapsed.shape}; give a scalar or one time per sample "
                f"({self.batch_size},)"
            )
        if not (np.isfinite(elapsed).all() and (elapsed > 0).all()):
            raise RuntimeInputError(f"every dt must be a finite time > 0 s, got {elapsed}")
        return elapsed.tolist()


def _names(what: str, names: Sequence[str], size: int) -> list[str]:
    names = [str(name) for name in names]
    if len(names) != size:
        raise ParameterError(f"{what} has {len(names)} entries, the network has {size}")
    return names
