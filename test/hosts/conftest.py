"""Network namespaces for the across-machines tests: skipped with the reason where they cannot
be created (not root), a failure instead when CI is set (CI runs as root with iproute2)."""

from __future__ import annotations

import os

import pytest
from netns_link import unavailable_reason


@pytest.fixture(scope="session")
def namespaces() -> None:
    reason = unavailable_reason()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must run the across-machines tests: {reason}")
    if reason:
        pytest.skip(reason)
