"""Policies the explainers are tested on: the shipped model files when they exist, otherwise an
untrained stand-in with the same robot I/O (the test id says which), and the explanations of
each, computed once per session on a short closed-loop simulation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ltc_control.resources import model_path
from ltc_control.robots import load_robot_description
from ltc_control.runtime import LiquidPolicy
from ltc_control.runtime.signals import policy_input_names, policy_output_names
from ltc_control.training.convert import from_ncps

# (robot, kind): the two CfC policies always ship; LTC ones may.
CASES = (("panda", "cfc19"), ("double_pendulum", "cfc19"), ("double_pendulum", "ltc19"))


def generated_robot_policy(robot: str, kind: str, path: Path, seed: int = 0) -> Path:
    """An untrained 19-neuron AutoNCP CfC or LTC reading and commanding `robot` by name."""
    import torch
    from ncps.torch import LTC, CfC
    from ncps.wirings import AutoNCP

    torch.manual_seed(seed)
    joints = load_robot_description(robot).joint_names
    inputs = policy_input_names(joints)
    cls = LTC if kind.startswith("ltc") else CfC
    module = cls(len(inputs), AutoNCP(19, len(joints), seed=seed), batch_first=True)
    from_ncps(
        module,
        input_names=inputs,
        output_names=policy_output_names(joints),
        model_id=f"untrained-{robot}-{kind}",
        path=path,
    )
    return path


def case_ids() -> list:
    params = []
    for robot, kind in CASES:
        name = f"{robot}_{kind}"
        shipped = model_path(f"{name}.npz").is_file()
        label = f"shipped-{name}" if shipped else f"generated-stand-in-for-absent-{name}"
        params.append(pytest.param((robot, kind), id=label))
    return params


@dataclass
class Explained:
    robot: str
    policy: LiquidPolicy
    model_file: Path
    output: Path
    summary: dict
    trajectories: list
