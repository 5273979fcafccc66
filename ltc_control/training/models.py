"""Torch sequence models trained as policies: CfC / LTC (ncps 1.0.1, AutoNCP wiring), LSTM, MLP.

Every model maps normalized inputs x (B, T, n_in) and the real elapsed times dt (B, T) in seconds
to normalized outputs y (B, T, n_out), carrying a hidden state across calls (truncated BPTT).

The liquid models step ncps' own cells (`module.rnn_cell`, `module.lstm`, `module.fc`) in a loop
here instead of calling `module.forward`: ncps 1.0.1 squeezes per-sample timespans to shape (B,),
which broadcasts against the (B, units) state wrongly; we pass them as (B, 1), the shape the cell
equations need. The arithmetic is ncps', so `runtime.from_ncps(model.module)` reproduces it.

The LSTM (ncps `LSTMCell` + linear readout) and the MLP ignore dt: they are the discrete-time
baselines the rate-shift benchmark compares against. Their numpy forward is
`ltc_control.training.baselines`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ltc_control.training.config import LIQUID_KINDS, MODEL_KINDS, WIRINGS

State = Any  # model-specific hidden state (None = zeros)


class SequenceModel(nn.Module):
    """Common interface: forward(x, dt, state) -> (y, state)."""

    kind: str = ""

    def forward(
        self, x: torch.Tensor, dt: torch.Tensor, state: State = None
    ) -> tuple[torch.Tensor, State]:
        raise NotImplementedError

    @staticmethod
    def detach(state: State) -> State:
        if state is None:
            return None
        if isinstance(state, tuple):
            return tuple(None if s is None else s.detach() for s in state)
        return state.detach()


class LiquidModel(SequenceModel):
    """ncps CfC or LTC with `units` neurons wired as AutoNCP layers (`wiring` "ncp"), or a CfC
    with all of them connected to all ("full", every neuron a motor neuron). AutoNCP has
    `motor_neurons` motor neurons (default n_out); a CfC reads its motor neurons out linearly
    into `proj_size` outputs (default n_out), an LTC through its per-neuron affine output
    mapping (so motors must equal n_out)."""

    def __init__(
        self,
        kind: str,
        n_in: int,
        n_out: int,
        units: int = 19,
        wiring: str = "ncp",
        sparsity: float = 0.5,
        wiring_seed: int = 22222,
        mixed_memory: bool = False,
        ode_unfolds: int = 6,
        proj_size: int | None = None,
        motor_neurons: int = 0,
    ) -> None:
        super().__init__()
        from ncps.torch import LTC, CfC
        from ncps.wirings import AutoNCP, FullyConnected

        self.kind = kind
        motors = motor_neurons or n_out
        if wiring == "ncp":
            neurons = AutoNCP(units, motors, sparsity_level=sparsity, seed=wiring_seed)
        elif wiring == "full" and kind == "cfc":
            # Every neuron is read out: ncps' CfC returns the whole last layer as its output
            # (and the runtime does the same), so fewer motor neurons would not match the readout.
            neurons = FullyConnected(units, units, erev_init_seed=wiring_seed)
        else:
            raise ValueError(
                f"wiring {wiring!r} for {kind!r}: expected one of {WIRINGS} (full: cfc)"
            )
        if kind == "cfc":
            # A linear readout of the motor neurons: CfC states live in (-1, 1), torques do not.
            proj_size = n_out if proj_size is None else proj_size
            self.module = CfC(n_in, neurons, proj_size=proj_size, mixed_memory=mixed_memory)
        elif kind == "ltc":
            self.module = LTC(n_in, neurons, mixed_memory=mixed_memory, ode_unfolds=ode_unfolds)
        else:
            raise ValueError(f"unknown liquid kind {kind!r}, expected one of {LIQUID_KINDS}")
        self.state_size = neurons.units

    def forward(
        self, x: torch.Tensor, dt: torch.Tensor, state: State = None
    ) -> tuple[torch.Tensor, State]:
        module = self.module
        batch = x.shape[0]
        if state is None:
            h = x.new_zeros(batch, self.state_size)
            c = x.new_zeros(batch, self.state_size) if module.use_mixed else None
        else:
            h, c = state
        if self.kind == "cfc" and not module.use_mixed and self._default_mode():
            outputs, h = self._fused_cfc(x, dt, h)
            return outputs, (h, None)
        outputs = []
        for t in range(x.shape[1]):
            inputs = x[:, t]
            if module.use_mixed:
                h, c = module.lstm(inputs, (h, c))
            out, h = module.rnn_cell.forward(inputs, h, dt[:, t, None])
            outputs.append(module.fc(out) if self.kind == "cfc" else out)
        return torch.stack(outputs, dim=1), (h, c)

    def _default_mode(self) -> bool:
        return all(layer.mode == "default" for layer in self.module.rnn_cell._layers)

    def _fused_cfc(
        self, x: torch.Tensor, dt: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ncps' WiredCfCCell (default mode) with each layer's four heads in one matmul.

        Same parameters and arithmetic as `CfCCell.forward` (masked ff1/ff2, unmasked time
        heads, h' = tanh(ff1) (1 - t) + t tanh(ff2), t = sigmoid(time_a dt + time_b)); fusing
        cuts the per-step op count, which bounds training speed for 19 neurons.
        """
        cell = self.module.rnn_cell
        fused = []
        for layer in cell._layers:
            mask = layer.sparsity_mask
            weight = torch.cat(
                [
                    layer.ff1.weight * mask,
                    layer.ff2.weight * mask,
                    layer.time_a.weight,
                    layer.time_b.weight,
                ]
            )
            bias = torch.cat([layer.ff1.bias, layer.ff2.bias, layer.time_a.bias, layer.time_b.bias])
            fused.append((weight, bias))
        states = list(torch.split(h, cell.layer_sizes, dim=1))
        motor = []
        for t in range(x.shape[1]):
            inputs, ts = x[:, t], dt[:, t, None]
            for i, (weight, bias) in enumerate(fused):
                z = torch.nn.functional.linear(torch.cat([inputs, states[i]], 1), weight, bias)
                ff1, ff2, time_a, time_b = z.chunk(4, dim=1)
                gate = torch.sigmoid(time_a * ts + time_b)
                states[i] = torch.tanh(ff1) * (1.0 - gate) + gate * torch.tanh(ff2)
                inputs = states[i]
            motor.append(inputs)
        return self.module.fc(torch.stack(motor, dim=1)), torch.cat(states, dim=1)


class LSTMModel(SequenceModel):
    """ncps `LSTMCell` (the cell the runtime already has in numpy) and a linear readout."""

    kind = "lstm"

    def __init__(self, n_in: int, n_out: int, units: int = 19) -> None:
        super().__init__()
        from ncps.torch.lstm import LSTMCell

        self.units = units
        self.cell = LSTMCell(n_in, units)
        self.readout = nn.Linear(units, n_out)

    def forward(
        self, x: torch.Tensor, dt: torch.Tensor, state: State = None
    ) -> tuple[torch.Tensor, State]:
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.units)
            state = (zeros, zeros)
        h, c = state
        outputs = []
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h, c))
            outputs.append(self.readout(h))
        return torch.stack(outputs, dim=1), (h, c)


class MLPModel(SequenceModel):
    """Memoryless baseline: tanh MLP applied to every sample."""

    kind = "mlp"

    def __init__(self, n_in: int, n_out: int, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = n_in
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        blocks.append(nn.Linear(width, n_out))
        self.net = nn.Sequential(*blocks)

    def forward(
        self, x: torch.Tensor, dt: torch.Tensor, state: State = None
    ) -> tuple[torch.Tensor, State]:
        return self.net(x), None


def build_model(kind: str, n_in: int, n_out: int, **options: Any) -> SequenceModel:
    """The model of `kind` (see MODEL_KINDS) with its options (units, sparsity, ...)."""
    if kind in LIQUID_KINDS:
        return LiquidModel(kind, n_in, n_out, **options)
    if kind == "lstm":
        return LSTMModel(n_in, n_out, **options)
    if kind == "mlp":
        return MLPModel(n_in, n_out, **options)
    raise ValueError(f"unknown model kind {kind!r}, expected one of {MODEL_KINDS}")
