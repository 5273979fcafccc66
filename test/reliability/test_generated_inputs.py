"""Hypothesis-generated bad input never produces an unsafe command (the oracle:
reliability_cases.unsafe_reason). Fewer cases than bench/load.py (10,000+ per run), same
generators: on the cores (policy controller + safety filter), and through real topics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_cases import (
    BAD_FLOATS,
    PANDA,
    joint_message,
    loop_case,
    make_core_loop,
    make_filter,
    run_case,
    unsafe_reason,
)

SETTINGS = settings(
    deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# numpy overflow warnings are the point of huge inputs, not a problem
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ltc_testing import write_untrained_policy

    return write_untrained_policy("panda", tmp_path_factory.mktemp("m") / "panda.npz")


def test_generated_loop_inputs_on_the_cores(policy_file: Path) -> None:
    loop = make_core_loop(str(policy_file))
    clock = [1.0]
    outcomes = []

    @settings(SETTINGS, max_examples=400)
    @given(loop_case())
    def run(case: dict) -> None:
        for outcome in run_case(loop, case, clock):
            assert outcome.problem == "", (case, outcome)
            outcomes.append(outcome)

    run()
    published = [o for o in outcomes if o.command is not None]
    assert len(outcomes) >= 400 and published, "the generator must reach the filter"
    assert loop.controller.rejections["bad_joint_state"] > 0
    assert loop.filter.counters["fallback"] > 0 and loop.filter.counters["filtered"] > 0


def _state_values(low: np.ndarray, high: np.ndarray) -> st.SearchStrategy[np.ndarray]:
    """Per joint: anywhere from 30 % of the range below `low` to 30 % above `high`, or a
    non-finite / huge value."""
    span = high - low
    fraction = st.floats(-0.3, 1.3).map(lambda x: ("f", x))
    bad = BAD_FLOATS.map(lambda x: ("x", x))
    return st.lists(fraction | bad, min_size=PANDA.dof, max_size=PANDA.dof).map(
        lambda items: np.array(
            [low[i] + span[i] * x if kind == "f" else x for i, (kind, x) in enumerate(items)]
        )
    )


@settings(SETTINGS, max_examples=300)
@given(
    q=_state_values(PANDA.limits.lower, PANDA.limits.upper),
    v=_state_values(-PANDA.limits.velocity, PANDA.limits.velocity),
    u=st.lists(st.floats(-300, 300) | BAD_FLOATS, min_size=PANDA.dof, max_size=PANDA.dof),
)
def test_filter_output_is_safe_for_any_state_and_command(q, v, u) -> None:
    f = FILTER
    result = f.filter(q, v, np.array(u))
    filtered = result.mode == "filtered"
    assert unsafe_reason(f, q, v, result.command, filtered) == ""
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(v)) and np.all(np.isfinite(u))):
        assert result.reason.startswith("invalid_input")


FILTER = make_filter()


@pytest.mark.ros
def test_generated_joint_states_through_real_topics(ros_context, untrained_panda_policy) -> None:
    """Generated joint-state messages (names reordered/missing/duplicated/unknown/empty, wrong
    lengths, NaN/Inf/huge values) published to the running nodes, with good ones in between."""
    from ros_harness import Loop, joint_state

    from ltc_control.runtime.signals import SignalError, match_joints

    loop = Loop(ros_context, untrained_panda_policy)
    loop.start()
    crashes = []

    @settings(SETTINGS, max_examples=60)
    @given(joint_message(PANDA.joint_names))
    def run(msg: dict) -> None:
        try:
            q = match_joints(msg["name"], msg["position"], PANDA.joint_names)
            v = match_joints(msg["name"], msg["velocity"], PANDA.joint_names)
            valid = True
        except SignalError:
            q = v = None
            valid = False
        message = joint_state(loop.t + 0.01, [], [], [])
        message.name, message.position, message.velocity = (
            msg["name"],
            [float(x) for x in msg["position"]],
            [float(x) for x in msg["velocity"]],
        )
        # A state the filter takes: wait for its answer, so the oracle knows the state used.
        loop.tick(
            q if valid else PANDA.home,
            v if valid else np.zeros(PANDA.dof),
            message=message,
            valid=valid,
            wait=valid,
            timeout=0.3,
        )
        loop.spin_for(0.002)
        loop.tick()  # a good state in between

    try:
        run()
    except Exception as exc:
        crashes.append(exc)
    assert crashes == []
    assert loop.recover()
    assert loop.unsafe_outputs() == []
    assert loop.last_status().rejected_messages > 0
    assert math.isfinite(loop.last_status().compute_time_us)
    loop.close()
