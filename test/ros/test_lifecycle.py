"""The safety filter node follows the lifecycle pattern: its per-activation state (loop, held
state and command, counters) is created in on_configure and dropped in on_cleanup."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.msg import SafetyStatus

pytestmark = pytest.mark.ros


def test_cleanup_drops_the_activation_state_and_configure_starts_afresh(ros_context) -> None:
    from ltc_control.control.filter_loop import FILTERED, WAITING
    from ltc_control.nodes.safety_filter_node import SafetyFilterNode

    node = SafetyFilterNode(context=ros_context, use_global_arguments=False)
    names, home = node.robot.joint_names, node.robot.home
    zero = np.zeros(node.robot.dof)
    first = node.loop
    first.on_nominal(names, zero, now=0.0)
    assert first.on_joint_state(names, home, zero, stamp=0.001, now=0.001)
    assert first.step(0.001).mode == FILTERED
    node.trigger_deactivate()
    node.trigger_cleanup()
    assert node.loop is None and node.filter is None and node.timer is None
    assert node.last_status.mode == SafetyStatus.MODE_INACTIVE
    node.publish_braking("after cleanup")  # nothing to brake with: no state, no crash
    node.trigger_configure()
    node.trigger_activate()
    assert node.loop is not first and node.loop.q is None and node.loop.waiting_for_nominal
    assert node.loop.on_joint_state(names, home, zero, stamp=0.002, now=0.002)
    assert node.loop.step(0.002).mode == WAITING  # the old nominal command is gone
    node.destroy_node()
