"""BarrierNet gains on the policy side (one map from raw outputs, shared with training) and on
the filter side (gains matched to the held nominal command by stamp)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ltc_control.control.barrier_gains import GAIN_RANGE, GainOutputs, GainsHold, gains_from_raw
from ltc_control.robots import load_robot_description
from ltc_control.runtime.signals import SignalError
from ltc_control.safety import SafetyFilter, load_safety_config

NAMES = ("joint_velocity.gain_1", "joint_position.gain_1", "joint_position.gain_2")
CONFIGURED = {"joint_velocity.gain_1": 100.0, "joint_position.gain_1": 4.0, "x.gain_1": 1.0}


def test_numpy_and_torch_map_raw_outputs_alike_around_the_configured_gains() -> None:
    raw = np.array([-30.0, -math.log(3.0), 0.0, math.log(3.0), 30.0])
    configured = np.array([100.0, 4.0, 40.0, 4.0, 40.0])
    gains = gains_from_raw(raw, configured)
    expected = torch.tensor(configured) * GAIN_RANGE * torch.sigmoid(torch.tensor(raw))
    np.testing.assert_allclose(gains, expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        gains_from_raw(torch.tensor(raw), torch.tensor(configured), torch.sigmoid).numpy(),
        gains,
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(gains[1:4], [2.0, 40.0, 6.0])  # 0.5x, 1x, 1.5x
    assert np.all(gains > 0) and np.all(gains < GAIN_RANGE * configured)


def test_gain_outputs_are_found_by_name_and_mapped() -> None:
    names = ["effort_over_gravity/j1", "cbf_gain/joint_position.gain_1", "cbf_gain/x.gain_1"]
    outputs = GainOutputs(names, CONFIGURED)
    assert outputs.names == ("joint_position.gain_1", "x.gain_1")
    np.testing.assert_allclose(outputs(np.array([5.0, 0.0, math.log(3.0)])), [4.0, 1.5])
    assert GainOutputs.present(names) and not GainOutputs.present(names[:1])
    with pytest.raises(SignalError, match=r"workspace\.gain_2"):
        GainOutputs(["cbf_gain/workspace.gain_2"], CONFIGURED)


def test_the_config_names_the_filter_gains_as_the_filter_does() -> None:
    for robot_name in ("panda", "double_pendulum"):
        config = load_safety_config(robot_name)
        safety_filter = SafetyFilter(load_robot_description(robot_name), config)
        by_name = config.gains_by_name()
        assert [by_name[n] for n in safety_filter.gain_names] == list(
            safety_filter.configured_gains
        )


def test_gains_hold_matches_gains_to_the_nominal_stamp() -> None:
    hold = GainsHold(NAMES, np.array([100.0, 4.0, 40.0]))
    hold.on_nominal(1.0)
    assert hold.for_step() is None and hold.stale == 0  # a plain policy: configured, as ever
    assert hold.on_gains(2.0, ["joint_position.gain_2", "joint_velocity.gain_1"], [30.0, 50.0])
    np.testing.assert_array_equal(hold.for_step(), [100.0, 4.0, 40.0])  # nominal of t=1: stale
    assert hold.stale == 1
    hold.on_nominal(2.0)
    np.testing.assert_array_equal(hold.for_step(), [50.0, np.nan, 30.0])  # missing: NaN
    assert hold.stale == 1
    hold.on_nominal(3.0)  # a newer command: the gains of t=2 are not reused
    np.testing.assert_array_equal(hold.for_step(), [100.0, 4.0, 40.0])
    assert hold.stale == 2
    assert not hold.on_gains(3.0, ["joint_velocity.gain_1"], [1.0, 2.0])
    assert hold.stale == 2
    hold.start()
    assert hold.for_step() is None


def test_the_filter_loop_filters_each_command_with_its_own_gains() -> None:
    from ltc_control.control.filter_loop import FILTERED, FilterLoop

    robot = load_robot_description("panda")
    loop = FilterLoop(SafetyFilter(robot, load_safety_config("panda")))
    names, zero, configured = robot.joint_names, np.zeros(robot.dof), loop.filter.configured_gains
    gain_names = loop.filter.gain_names

    def cycle(t: float):
        assert loop.on_joint_state(names, robot.home, zero, stamp=t, now=t)
        return loop.step(t)

    loop.on_nominal(names, zero, now=0.0, stamp=0.0)
    assert cycle(0.001).mode == FILTERED and loop.gains.stale == 0  # no gains: plain policy
    np.testing.assert_array_equal(cycle(0.002).gains, configured)
    assert loop.filter.counters["learned_gains"] == 0
    assert loop.on_gains(gain_names, 0.5 * configured, stamp=0.01)
    loop.on_nominal(names, zero, now=0.01, stamp=0.01)
    np.testing.assert_array_equal(cycle(0.011).gains, 0.5 * configured)
    loop.on_nominal(names, zero, now=0.02, stamp=0.02)  # its gains never came
    np.testing.assert_array_equal(cycle(0.021).gains, configured)
    assert loop.gains.stale == 1 and loop.filter.counters["learned_gains"] == 2
    assert not loop.on_gains(gain_names[:1], [1.0, 2.0], stamp=0.03)
    assert loop.rejected == 1 and "barrier gains refused" in loop.refusal
    loop.start()  # a new activation: a plain policy again until gains arrive
    loop.on_nominal(names, zero, now=0.04, stamp=0.04)
    assert cycle(0.041).mode == FILTERED and loop.filter.counters["learned_gains"] == 2
