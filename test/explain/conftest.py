"""Fixtures of the explain tests (helpers in explain_cases.py)."""

from __future__ import annotations

import pytest
from explain_cases import Explained, generated_robot_policy

from ltc_control.resources import model_path
from ltc_control.runtime import load_policy

_CACHE: dict[tuple[str, str], Explained] = {}


@pytest.fixture
def explained(request, tmp_path_factory) -> Explained:
    """explain_policy on 2 closed-loop episodes of 2 s at 100 Hz, once per case per session."""
    from ltc_control.evaluation import simulate_trajectories
    from ltc_control.explain import explain_policy

    robot, kind = request.param
    if (robot, kind) not in _CACHE:
        folder = tmp_path_factory.mktemp(f"explain_{robot}_{kind}")
        shipped = model_path(f"{robot}_{kind}.npz")
        model_file = (
            shipped
            if shipped.is_file()
            else generated_robot_policy(robot, kind, folder / "model.npz")
        )
        policy = load_policy(model_file)
        trajectories = simulate_trajectories(policy, robot, episodes=2, duration_s=2.0, seed=1)
        summary = explain_policy(policy, trajectories, folder / "out", source="test")
        _CACHE[(robot, kind)] = Explained(
            robot, policy, model_file, folder / "out", summary, trajectories
        )
    return _CACHE[(robot, kind)]
