"""Shared fixtures. DDS isolation: tools/dev.sh gives each run its own ROS_DOMAIN_ID and keeps
discovery on localhost; fixtures give each test its own rclpy context."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ltc_testing import write_untrained_policy

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
