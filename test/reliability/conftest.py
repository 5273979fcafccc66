"""Fixtures of the reliability tests: the running policy + safety filter loop (ros_harness)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ros_harness import Loop


@pytest.fixture
def loop(ros_context, untrained_panda_policy: Path) -> Iterator[Loop]:
    """Policy and safety filter nodes with a probe, started and filtering."""
    running = Loop(ros_context, untrained_panda_policy)
    running.start()
    yield running
    running.close()
