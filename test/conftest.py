"""Shared fixtures. DDS isolation: tools/dev.sh gives each run its own ROS_DOMAIN_ID and keeps
discovery on localhost; fixtures give each test its own rclpy context."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ltc_control.control.signals import policy_input_names, policy_output_names
from ltc_control.robots import load_robot_description

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(10 + os.getpid() % 90))


@pytest.fixture
def ros_context() -> Iterator[object]:
    """A fresh, initialised rclpy context, shut down after the test."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        if context.ok():
            rclpy.shutdown(context=context)


def write_untrained_policy(robot_name: str, path: Path, seed: int = 0) -> Path:
    """A 19-neuron CfC/AutoNCP with the deployment I/O names and fresh (untrained) weights.

    Integration tests need a real model file, not a good one: its small outputs on top of
    gravity compensation keep the arm near where it is.
    """
    import torch
    from ncps.torch import CfC
    from ncps.wirings import AutoNCP

    from ltc_control.runtime import from_ncps

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


@pytest.fixture(scope="session")
def untrained_panda_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_untrained_policy("panda", tmp_path_factory.mktemp("models") / "panda.npz")


def _spin_until(executor: object, condition: Callable[[], bool], timeout: float) -> bool:
    """Spin until condition() holds or `timeout` seconds of wall time passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        executor.spin_once(timeout_sec=0.01)
    return True


@pytest.fixture
def spin_until() -> Callable[[object, Callable[[], bool], float], bool]:
    return _spin_until
