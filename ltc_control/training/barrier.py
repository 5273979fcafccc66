"""BarrierNet mode: the policy outputs a nominal torque and CBF gains; a differentiable barrier
layer turns them into the command the loss sees (Xiao et al., BarrierNet, T-RO 2023).

The project's safety package has no torch layer yet, so this module carries a small one. It is
the closed form of the QP

    minimize ||a - a_nom||²  over joint accelerations a,  a_nom = M(q)⁻¹ (u_nom - h(q, v))
    subject to, per joint i (limits of the robot description):
      velocity CBF   h = v_max - |v_i|:   -k_v (v_max + v_i) <= a_i <= k_v (v_max - v_i)
      position HOCBF h = distance to a position limit, both class-K gains k_p:
                     a_i <= -2 k_p v_i + k_p² (q_max - q_i),  a_i >= -2 k_p v_i - k_p² (q_i - q_min)

whose constraints are per-joint bounds on a, so the solution is a clamp (differentiable almost
everywhere, also in the gains); u = M a + h. If a joint's bounds cross (no feasible a), the upper
bound wins. Units: rad, rad/s, rad/s², N·m, gains 1/s. The gains are learned per joint and per
sample: gain = GAIN_MIN + GAIN_SCALE * softplus(network output), so they stay positive.

Deployment: the model file has outputs `effort_over_gravity/<joint>` (the nominal, which
PolicyController and the QP safety filter use as usual) and `cbf_velocity_gain/<joint>`,
`cbf_position_gain/<joint>` (the network outputs before the softplus map above). The ROS safety
filter does not yet take per-step gains from the policy; it uses its configured gains.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ltc_control.robots.description import RobotDescription

GAIN_MIN = 0.5  # 1/s
GAIN_SCALE = 10.0  # 1/s per unit of softplus
GAIN_OUTPUTS = ("cbf_velocity_gain", "cbf_position_gain")


def gain_output_names(joint_names: Sequence[str]) -> list[str]:
    return [f"{kind}/{joint}" for kind in GAIN_OUTPUTS for joint in joint_names]


def gains_from_outputs(raw: torch.Tensor) -> torch.Tensor:
    """Network outputs (any shape) -> positive gains (1/s)."""
    return GAIN_MIN + GAIN_SCALE * torch.nn.functional.softplus(raw)


class BarrierLayer(torch.nn.Module):
    """Differentiable per-joint CBF layer (see the module docstring); batched over (..., dof)."""

    def __init__(self, robot: RobotDescription) -> None:
        super().__init__()
        limits = robot.limits
        for name, value in (
            ("lower", limits.lower),
            ("upper", limits.upper),
            ("velocity", limits.velocity),
        ):
            self.register_buffer(name, torch.as_tensor(np.asarray(value), dtype=torch.float32))

    def forward(
        self,
        u_nominal: torch.Tensor,
        q: torch.Tensor,
        v: torch.Tensor,
        mass: torch.Tensor,
        bias: torch.Tensor,
        velocity_gain: torch.Tensor,
        position_gain: torch.Tensor,
    ) -> torch.Tensor:
        """u (N·m), same leading shape as u_nominal; mass (..., dof, dof), bias (..., dof)."""
        a_nominal = torch.linalg.solve(mass, (u_nominal - bias).unsqueeze(-1)).squeeze(-1)
        kv, kp = velocity_gain, position_gain
        upper = torch.minimum(kv * (self.velocity - v), -2.0 * kp * v + kp**2 * (self.upper - q))
        lower = torch.maximum(-kv * (self.velocity + v), -2.0 * kp * v - kp**2 * (q - self.lower))
        lower = torch.minimum(lower, upper)
        a = torch.minimum(torch.maximum(a_nominal, lower), upper)
        return (mass @ a.unsqueeze(-1)).squeeze(-1) + bias
