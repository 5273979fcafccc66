"""Test support shared by test modules and benchmarks (imported as `ltc_testing`; test/ is on
sys.path under pytest, and benchmarks add it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ltc_control.control.signals import policy_input_names, policy_output_names
from ltc_control.robots import load_robot_description


def write_untrained_policy(
    robot_name: str, path: Path, seed: int = 0, pinned: Mapping[str, float] | None = None
) -> Path:
    """A 19-neuron CfC/AutoNCP with the deployment I/O names and fresh (untrained) weights.

    Integration tests need a real model file, not a good one: its small outputs on top of
    gravity compensation keep the arm near where it is. `pinned`: outputs held at a value
    (output std 1e-9 around it), by name; a `cbf_gain/...` name adds that output (a BarrierNet
    model's raw gain).
    """
    import torch
    from ncps.torch import CfC
    from ncps.wirings import AutoNCP

    from ltc_control.runtime import from_ncps
    from ltc_control.runtime.policy import Normalization

    torch.manual_seed(seed)
    robot = load_robot_description(robot_name)
    inputs = policy_input_names(robot.joint_names)
    pinned = dict(pinned or {})
    outputs = policy_output_names(robot.joint_names)
    outputs += [name for name in pinned if name not in outputs]
    module = CfC(len(inputs), AutoNCP(19, len(outputs), seed=seed), batch_first=True)
    normalization = Normalization.identity(len(inputs), len(outputs))
    for i, name in enumerate(outputs):
        if name in pinned:
            normalization.output_mean[i], normalization.output_std[i] = pinned[name], 1e-9
    from_ncps(
        module,
        input_names=inputs,
        output_names=outputs,
        normalization=normalization,
        model_id=f"untrained-{robot_name}",
        path=path,
    )
    return path
