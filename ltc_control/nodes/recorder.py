"""Recorder node: keeps what crosses the control loop's topics, for summaries and plots.

Subscribes `joint_states`, `target`, `nominal_command`, `commands` (remap to the controller's),
`safety_status` and `contact_wrench`; stores each sample with its stamp (s). Nothing is
computed here: evaluation.run_metrics turns the Recording into numbers.
"""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import PointStamped, WrenchStamped
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from ltc_control.evaluation.run_metrics import Recording
from ltc_control.msg import SafetyStatus
from ltc_control.nodes.fields import to_seconds
from ltc_control.nodes.target_node import TARGET_QOS


class RecorderNode(Node):
    def __init__(self, **node_kwargs: object) -> None:
        super().__init__("recorder", **node_kwargs)
        self.recording = Recording()
        self.create_subscription(JointState, "joint_states", self._on_joint_state, 100)
        self.create_subscription(PointStamped, "target", self._on_target, TARGET_QOS)
        self.create_subscription(SafetyStatus, "safety_status", self._on_status, 100)
        self.create_subscription(WrenchStamped, "contact_wrench", self._on_wrench, 100)
        self.create_subscription(Float64MultiArray, "commands", self._on_command, 100)

    def _on_joint_state(self, msg: JointState) -> None:
        r = self.recording
        r.joint_time.append(to_seconds(msg.header.stamp))
        r.q.append(np.array(msg.position))
        r.v.append(np.array(msg.velocity))
        r.tau_applied.append(np.array(msg.effort))

    def _on_target(self, msg: PointStamped) -> None:
        self.recording.target_time.append(to_seconds(msg.header.stamp))
        self.recording.target.append(np.array([msg.point.x, msg.point.y, msg.point.z]))

    def _on_status(self, msg: SafetyStatus) -> None:
        r = self.recording
        r.status_time.append(to_seconds(msg.header.stamp))
        r.nominal.append(np.array(msg.nominal_command))
        r.safe.append(np.array(msg.safe_command))
        r.mode.append(msg.mode)

    def _on_wrench(self, msg: WrenchStamped) -> None:
        force = msg.wrench.force
        self.recording.wrench_time.append(to_seconds(msg.header.stamp))
        self.recording.contact_force.append(np.array([force.x, force.y, force.z]))

    def _on_command(self, msg: Float64MultiArray) -> None:
        self.recording.commands_received += 1
