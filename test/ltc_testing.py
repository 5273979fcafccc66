"""Test support shared by test modules and benchmarks (imported as `ltc_testing`; test/ is on
sys.path under pytest, and benchmarks add it)."""

from __future__ import annotations

from pathlib import Path

from ltc_control.robots import load_robot_description
from ltc_control.runtime.signals import policy_input_names, policy_output_names


def write_untrained_policy(robot_name: str, path: Path, seed: int = 0) -> Path:
    """A 19-neuron CfC/AutoNCP with the deployment I/O names and fresh (untrained) weights.

    Integration tests need a real model file, not a good one: its small outputs on top of
    gravity compensation keep the arm near where it is.
    """
    import torch
    from ncps.torch import CfC
    from ncps.wirings import AutoNCP

    from ltc_control.training.convert import from_ncps

    torch.manual_seed(seed)
    robot = load_robot_description(robot_name)
    inputs = policy_input_names(robot.joint_names)
    module = CfC(len(inputs), AutoNCP(19, robot.dof, seed=seed), batch_first=True)
    from_ncps(
        module,
        input_names=inputs,
        output_names=policy_output_names(robot.joint_names),
        model_id=f"untrained-{robot_name}",
        path=path,
    )
    return path
