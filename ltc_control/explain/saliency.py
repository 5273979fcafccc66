"""Input saliency: how much each sensor input moves each output, along a recorded rollout.

Method (finite differences of the network itself, no gradients, any cell): at up to `max_points`
steps t0 spread evenly over the recording, the network is restarted from the recorded state
`state_before[t0]` and run over the recorded inputs and dts of steps t0 .. t0 + H - 1 (same
episode), once with input j raised and once lowered by `step` (in model space, i.e. in units of
that input's normalization std) over the whole window. The central difference of the output at
the window's end,

    S[o, j](t0) = (y_o(+) - y_o(-)) / (2 step)   [output stds per input std],

is the sensitivity of output o to a sustained offset of input j over H steps (H = 1: the
immediate, one-step effect). Reported: mean |S| over t0 (`normalized`, comparable across inputs
and outputs, the heat maps), mean S (`signed`), and mean |S| in raw units (`raw`, e.g. N·m per
rad: normalized * output_std / input_std). The network is stepped one sample at a time
(`LiquidNetwork.step`), so the cost is points x 2 n_in x H steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltc_control.explain.errors import ExplainError
from ltc_control.explain.recording import PolicyRecording
from ltc_control.runtime import LiquidNetwork, LiquidPolicy, build_network

STEP = 1e-3  # input std; the networks are smooth, so central differences are accurate at this size


@dataclass(frozen=True)
class Saliency:
    horizon_steps: int
    points: int  # window starts averaged over
    normalized: np.ndarray  # (n_out, n_in) mean |S|, output stds per input std
    signed: np.ndarray  # (n_out, n_in) mean S
    raw: np.ndarray  # (n_out, n_in) mean |S| in output units per input unit

    def top_inputs(self, input_names: list[str], output_names: list[str], k: int = 3) -> dict:
        """Per output, the k inputs with the largest normalized saliency (name -> value)."""
        return {
            output: {input_names[j]: float(row[j]) for j in np.argsort(row)[::-1][:k]}
            for output, row in zip(output_names, self.normalized, strict=True)
        }


def input_saliency(
    policy: LiquidPolicy, recording: PolicyRecording, horizon_steps: int = 1, max_points: int = 100
) -> Saliency:
    """See the module docstring; raises ExplainError if no window of `horizon_steps` fits."""
    if horizon_steps < 1:
        raise ExplainError(f"horizon_steps must be >= 1, got {horizon_steps}")
    starts = _window_starts(recording, horizon_steps, max_points)
    norm = policy.normalization
    z = (recording.inputs - norm.input_mean) / norm.input_std
    n_in = z.shape[1]
    # a float64 copy of the network: differences of STEP stay far above rounding even for a
    # float32 model
    network = build_network(policy.network.config(), policy.network.params(), np.float64)
    sensitivity = np.empty((len(starts), n_in, len(recording.output_names)))
    for p, start in enumerate(starts):
        window = slice(start, start + horizon_steps)
        for j in range(n_in):
            ends = [
                _run_window(network, recording, z[window], window, j, sign * STEP)
                for sign in (1, -1)
            ]
            sensitivity[p, j] = (ends[0] - ends[1]) / (2 * STEP)
    normalized = np.abs(sensitivity).mean(axis=0).T
    raw = normalized * norm.output_std[:, None] / norm.input_std[None, :]
    return Saliency(horizon_steps, len(starts), normalized, sensitivity.mean(axis=0).T, raw)


def _run_window(
    network: LiquidNetwork,
    recording: PolicyRecording,
    z: np.ndarray,
    window: slice,
    j: int,
    offset: float,
) -> np.ndarray:
    """Model-space output after running the window from its recorded start state, input j offset."""
    z = z.copy()
    z[:, j] += offset
    state = recording.state_before[window.start].astype(np.float64)
    for inputs, dt in zip(z, recording.dt[window], strict=True):
        outputs, state, _ = network.step(inputs, state, None, float(dt))
    return outputs


def _window_starts(recording: PolicyRecording, horizon: int, max_points: int) -> np.ndarray:
    """Steps t0 whose window t0 .. t0 + horizon - 1 stays inside one episode, evenly thinned."""
    index = np.arange(len(recording) - horizon + 1)
    valid = index[recording.episode[index] == recording.episode[index + horizon - 1]]
    if len(valid) == 0:
        raise ExplainError(f"no window of {horizon} steps fits inside one episode")
    if len(valid) > max_points:
        valid = valid[np.linspace(0, len(valid) - 1, max_points).round().astype(int)]
    return valid
