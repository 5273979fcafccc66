"""BarrierNet gains over real topics: a policy node with gain outputs -> barrier_gains -> the
safety filter node, which filters each nominal command with the gains stamped like it.

- Gains flow and act: the filter's status reports the policy's gains, its command is the
  reference filter's with those gains, and a 1.5x gain lets joint 1 accelerate toward its
  velocity limit faster than a 0.5x gain (row a <= gain * h, active under a strong push).
- Bad gains (NaN, negative, huge, missing names, a message with more gains than names, gains
  stamped for another command) are replaced by the configured gains and counted, and the
  command is the reference filter's with the configured gains: never looser.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from ltc_testing import write_untrained_policy
from reliability_cases import PANDA
from ros_harness import FILTERED, HOME, Loop, joint_state

from ltc_control.control.barrier_gains import GAIN_PREFIX, GAIN_RANGE
from ltc_control.msg import BarrierGains
from ltc_control.nodes.fields import time_msg

pytestmark = pytest.mark.ros
PUSH = 40.0  # N·m over gravity on joint 1: drives it into its velocity row
H = 0.05  # rad/s below the velocity limit (minus margin): the row a <= gain * H binds


def _state(loop: Loop) -> tuple[np.ndarray, np.ndarray]:
    v = np.zeros(PANDA.dof)
    v[0] = PANDA.limits.velocity[0] - loop.safety.config.velocity_margin - H
    return HOME.copy(), v


def _barriernet_model(tmp_path, scale: float):
    """Every raw gain pinned so the sigmoid map gives scale x the configured gain."""
    from ltc_control.safety import SafetyFilter, load_safety_config

    names = SafetyFilter(PANDA, load_safety_config("panda")).gain_names
    raw = math.log(scale / (GAIN_RANGE - scale))  # sigmoid(raw) = scale / GAIN_RANGE
    pinned = {f"effort_over_gravity/{PANDA.joint_names[0]}": PUSH}
    pinned |= {f"{GAIN_PREFIX}/{name}": raw for name in names}
    return write_untrained_policy("panda", tmp_path / f"barriernet_{scale}.npz", pinned=pinned)


def _joint1_acceleration(loop: Loop, q, v, command) -> float:
    terms = loop.reference.model.terms(q, v)
    return float((terms.inverse_mass @ command + terms.free_acceleration)[0])


def test_gains_flow_from_the_policy_and_change_the_rows(ros_context, tmp_path) -> None:
    accelerations = {}
    for scale in (0.5, 1.5):
        loop = Loop(ros_context, _barriernet_model(tmp_path, scale))
        try:
            loop.start()
            q, v = _state(loop)
            for _ in range(30):
                assert loop.tick(q, v)
            status = loop.last_status()
            assert status.mode == FILTERED, status.reason
            configured = loop.reference.configured_gains
            assert list(status.gain_names) == list(loop.reference.gain_names)
            np.testing.assert_allclose(status.gains, scale * configured, rtol=1e-5)
            assert status.learned_gain_count >= 20 and status.gains_replaced_count == 0
            nominal = np.array(status.nominal_command)
            expected = loop.reference.filter(q, v, nominal, gains=np.array(status.gains))
            assert "joint_velocity" in expected.active_constraints
            np.testing.assert_allclose(status.safe_command, expected.command, atol=1e-6)
            accelerations[scale] = _joint1_acceleration(loop, q, v, np.array(status.safe_command))
            velocity_gain = status.gains[list(status.gain_names).index("joint_velocity.gain_1")]
            assert accelerations[scale] == pytest.approx(velocity_gain * H, rel=1e-4)
            assert not loop.unsafe_outputs()
        finally:
            loop.close()
    assert accelerations[1.5] > 2.5 * accelerations[0.5]


def _send(loop: Loop, gains_pub, stamp: float, names, gains, gains_stamp=None) -> None:
    message = BarrierGains(names=list(names), gains=[float(g) for g in gains])
    message.header.stamp = time_msg(stamp if gains_stamp is None else gains_stamp)
    gains_pub.publish(message)
    nominal = joint_state(stamp)
    nominal.effort = [float(x) for x in loop.reference.braking_command(*_state(loop))]
    nominal.effort[0] += PUSH
    loop.probe.nominal_pub.publish(nominal)


def test_bad_gains_are_counted_and_never_loosen_the_filter(ros_context, untrained_panda_policy):
    loop = Loop(ros_context, untrained_panda_policy, with_policy=False)
    gains_pub = loop.probe.create_publisher(BarrierGains, "barrier_gains", 10)
    try:
        loop.probe.set_clock(loop.t)
        names = loop.reference.gain_names
        configured = loop.reference.configured_gains
        q, v = _state(loop)
        n = len(names)
        cases = {
            "nan": (names, [math.nan] * n, None),
            "negative": (names, [-1.0] * n, None),
            "huge": (names, [1e9] * n, None),
            "missing names": (names[:2], [1.0, 1.0], None),
            "stale stamp": (names, 0.5 * configured, -1.0),
        }
        for case, (case_names, gains, stamp_offset) in cases.items():
            before = None
            for _ in range(8):
                loop.advance_clock()
                gains_stamp = None if stamp_offset is None else loop.t + stamp_offset
                _send(loop, gains_pub, loop.t, case_names, gains, gains_stamp)
                loop.spin_for(0.02)
                assert loop.tick(q, v)
                status = loop.last_status()
                before = status if before is None else before
            assert status.mode == FILTERED, (case, status.reason)
            used = np.array(status.gains)
            if case == "missing names":  # the two named gains are good and kept
                np.testing.assert_array_equal(used[2:], configured[2:])
            else:
                np.testing.assert_array_equal(used, configured, err_msg=case)
            if case == "stale stamp":
                assert status.gains_stale_count > before.gains_stale_count
            else:
                assert status.gains_replaced_count > before.gains_replaced_count, case
            expected = loop.reference.filter(q, v, np.array(status.nominal_command), gains=used)
            np.testing.assert_allclose(status.safe_command, expected.command, atol=1e-6)
        # A message with more gains than names is refused and counted as rejected.
        rejected = loop.last_status().rejected_messages
        _send(loop, gains_pub, loop.t + 0.001, names[:1], [1.0, 2.0])
        loop.spin_for(0.05)
        assert loop.tick(q, v)
        assert loop.last_status().rejected_messages > rejected
        assert loop.diagnostics_counter("gains_replaced") > 0
        assert not loop.unsafe_outputs()
    finally:
        loop.close()
