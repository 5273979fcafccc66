"""Shared fixtures. DDS isolation: tools/dev.sh gives each run its own ROS_DOMAIN_ID and keeps
discovery on localhost; fixtures give each test its own rclpy context."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

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
