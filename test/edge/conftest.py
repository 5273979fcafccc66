"""Fixtures of the edge tests (helpers in edge_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from edge_cases import generated_policy


@pytest.fixture
def case_policy_file(request, tmp_path: Path) -> Path:
    """The model file of a `shipped_cases()` param (generating the stand-in when needed)."""
    case = request.param
    if isinstance(case, Path):
        return case
    path = tmp_path / f"{case}.npz"
    generated_policy(case, path, dtype="float32")
    return path
