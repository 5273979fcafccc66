"""Step an exported policy graph (ltc_control.edge.onnx_export) with onnxruntime and numpy only.

`OnnxPolicy(path)` has the `LiquidPolicy` stepping contract: `step(x, dt)` with raw inputs (n_in,)
or (batch, n_in) and dt seconds (scalar or per sample) returns raw outputs; it keeps the hidden
state (`state`, `reset(batch_size)`), and names/units come from the graph's metadata. Bad inputs
raise `OnnxPolicyError` and leave the state unchanged. One intra-op thread: these graphs are tiny,
and thread hand-offs cost more than they save on a control loop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.errors import LtcControlError

_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}


class OnnxPolicyError(LtcControlError, ValueError):
    """An ONNX policy file is unusable, or a step input is malformed."""


class OnnxPolicy:
    def __init__(self, path: str | Path) -> None:
        import onnxruntime  # optional dependency: only this path needs it

        if not Path(path).is_file():
            raise OnnxPolicyError(f"ONNX policy file {path} does not exist")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's own errors derive from Exception only
            raise OnnxPolicyError(f"onnxruntime cannot load {path}: {exc}") from exc
        meta = self._session.get_modelmeta().custom_metadata_map
        try:
            self.model_id = meta["model_id"]
            self.kind = meta["kind"]
            self.input_names = json.loads(meta["input_names"])
            self.output_names = json.loads(meta["output_names"])
            self.input_units = json.loads(meta["input_units"])
            self.output_units = json.loads(meta["output_units"])
            self.state_size = int(meta["state_size"])
        except (KeyError, ValueError) as exc:
            raise OnnxPolicyError(f"{path} is not an exported liquid policy: {exc!r}") from exc
        self.dtype = np.dtype(_NUMPY_TYPES[self._session.get_inputs()[0].type])
        self.reset()

    @property
    def state(self) -> np.ndarray:
        return self._state.copy()

    def reset(self, batch_size: int = 1) -> None:
        if int(batch_size) < 1:
            raise OnnxPolicyError(f"batch_size must be >= 1, got {batch_size}")
        self._state = np.zeros((int(batch_size), self.state_size), dtype=self.dtype)

    def step(self, x: Any, dt: Any) -> np.ndarray:
        """Raw inputs (n_in,) or (batch, n_in), dt seconds -> raw outputs of the same rank."""
        inputs = np.asarray(x, dtype=self.dtype)
        batch, n_in = self._state.shape[0], len(self.input_names)
        rows = inputs[None, :] if inputs.ndim == 1 else inputs
        if rows.shape != (batch, n_in):
            raise OnnxPolicyError(
                f"inputs have shape {inputs.shape}; need ({n_in},) or ({batch}, {n_in})"
            )
        try:
            elapsed = np.broadcast_to(np.asarray(dt, dtype=self.dtype).reshape(-1, 1), (batch, 1))
        except ValueError as exc:
            raise OnnxPolicyError(f"dt must be a scalar or one time per sample: {exc}") from exc
        if not (np.isfinite(rows).all() and np.isfinite(elapsed).all() and (elapsed > 0).all()):
            raise OnnxPolicyError("inputs must be finite and every dt a finite time > 0 s")
        outputs, self._state = self._session.run(
            ["outputs", "next_state"],
            {
                "inputs": np.ascontiguousarray(rows),
                "state": self._state,
                "elapsed": np.ascontiguousarray(elapsed),
            },
        )
        return outputs[0] if inputs.ndim == 1 else outputs


def max_difference(
    policy: Any, onnx_policy: OnnxPolicy, steps: int = 100, batch: int = 1, seed: int = 0
) -> float:
    """Largest difference between a LiquidPolicy and its ONNX export over `steps` steps of random
    inputs (input mean + std * N(0, 1)) and irregular elapsed times (uniform 2 to 30 ms, per
    sample and step), both starting from a zero state. Measured in model space, the network's own
    O(1) units: next-state differences, and output differences divided by the output std (so a
    torque in N·m and a position in rad weigh alike, and float32 rounding of large raw values does
    not masquerade as an export error)."""
    rng = np.random.default_rng(seed)
    norm = policy.normalization
    policy.reset(batch)
    onnx_policy.reset(batch)
    worst = 0.0
    for _ in range(steps):
        x = norm.input_mean + norm.input_std * rng.normal(size=(batch, len(policy.input_names)))
        dt = rng.uniform(0.002, 0.03, size=batch)
        output_gap = (policy.step(x, dt) - onnx_policy.step(x, dt)) / norm.output_std
        state_gap = policy.state - onnx_policy.state
        worst = max(worst, float(np.abs(output_gap).max()), float(np.abs(state_gap).max()))
    return worst
