"""BarrierNet mode: the policy outputs its action and the CBF gains; the loss sees the command
the safety filter's QP makes of them (Xiao et al., BarrierNet, T-RO 2023).

The QP is the safety package's differentiable `BarrierNetLayer` (ltc_control.safety.layer): the
same constraints, scaling and torque box as the deployed `SafetyFilter`, with the class-K gains
of every CBF group taken from the network instead of the config. The filter is the evaluator's
(config/<robot>/safety.yaml at the training sensor rate, see evaluation.closed_loop).

Gains: gain_k = 2 * default_k * sigmoid(raw_k) (control.barrier_gains.gains_from_raw, the one
map the deployed policy node uses too), so a raw output of 0 gives the configured gain and every
gain stays in (0, 2 * default) (positive, and inside the sampled-data bound gain * period < 1
whenever the default is below half of it).

Model file outputs: the action (`ee_acceleration/x|y|z` through the expert's law, or
`effort_over_gravity/<joint>`; PolicyController turns it into the nominal torque as usual), then
`cbf_gain/<group>.gain_<i>` (raw, before the sigmoid map above). The loss: trainer.BarrierLoss. Deployed, the policy node publishes the mapped gains (ltc_control/BarrierGains on
`barrier_gains`, stamped like the nominal command) and the safety filter uses them for that
command, each inside its safe range (SafetyFilter).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ltc_control.control.barrier_gains import GAIN_PREFIX, gains_from_raw


class BarrierNetHead:
    """Maps network outputs [nominal (dof), raw gains] at raw q, v to the filter's command."""

    def __init__(self, safety_filter: Any) -> None:
        from ltc_control.safety.layer import BarrierNetLayer

        self.layer = BarrierNetLayer(safety_filter)
        self.dof = safety_filter.robot.dof
        self.default_gains = self.layer.default_gains.to(torch.float32)

    @property
    def output_names(self) -> list[str]:
        return [f"{GAIN_PREFIX}/{name}" for name in self.layer.gain_names]

    def gains(self, raw: torch.Tensor) -> torch.Tensor:
        return gains_from_raw(raw, self.default_gains, torch.sigmoid)

    @property
    def torque_reference(self) -> torch.Tensor:
        """N·m per joint: the scale the filter's QP measures torques in."""
        return self.layer._scale.to(torch.float32)

    @property
    def effort_limits(self) -> torch.Tensor:
        """N·m per joint: the robot's effort limits (the task law clips its torque to them)."""
        return torch.as_tensor(self.layer.safety_filter.robot.limits.effort, dtype=torch.float32)

    def sample_rows(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The filter's constraint rows at one state (data: computed once per training sample)."""
        return self.layer.sample_rows(q, v)

    def command(
        self,
        nominal: torch.Tensor,
        raw_gains: torch.Tensor,
        q: torch.Tensor,
        v: torch.Tensor,
        rows: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Safe torques (..., dof) for nominal torques (..., dof) and raw gains (..., n), with
        the states' precomputed `sample_rows` (..., width) if given."""
        shape = nominal.shape
        flat = (nominal.reshape(-1, self.dof), raw_gains.reshape(-1, raw_gains.shape[-1]))
        if rows is not None:
            rows = rows.reshape(-1, rows.shape[-1])
        u = self.layer(
            q.reshape(-1, self.dof),
            v.reshape(-1, self.dof),
            flat[0],
            self.gains(flat[1]),
            rows=rows,
        )
        return u.to(nominal.dtype).reshape(shape)
