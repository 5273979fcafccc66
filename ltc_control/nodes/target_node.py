"""Target node: the task, as a topic. Publishes end-effector targets a policy should reach.

Publishes `target` (geometry_msgs/PointStamped, world frame, m): the configured points, each held
`target_hold` seconds (on the node's clock: sim time in simulation), cycling. Transient-local
durability, so a policy that starts late still gets the current target.
"""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile

from ltc_control.errors import ConfigError
from ltc_control.nodes.parameters import (
    ParameterSpec,
    declare_parameters,
    warn_unknown_parameters,
)
from ltc_control.nodes.spin import run_nodes

NODE_NAME = "target"
PARAMETERS = (
    ParameterSpec("targets", [0.5, 0.0, 0.5], "end-effector targets, flat x,y,z list, m (world)"),
    ParameterSpec("target_hold", 3.0, "time each target is held before the next, s", 0.01, 1e6),
    ParameterSpec(
        "publish_rate_hz", 20.0, "how often the current target is re-published, Hz", 0.1, 1000.0
    ),
)
TARGET_QOS = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class TargetSequence:
    """Targets (m, world) held `hold` seconds each, cycling."""

    def __init__(self, flat: list[float], hold: float) -> None:
        values = np.asarray(flat, dtype=float)
        if values.size == 0 or values.size % 3 or not np.all(np.isfinite(values)):
            raise ConfigError(f"parameter 'targets' must be finite x,y,z triples, got {flat}")
        self.points = values.reshape(-1, 3)
        self.hold = hold

    def at(self, t: float) -> np.ndarray:
        return self.points[int(max(t, 0.0) // self.hold) % len(self.points)]


class TargetNode(Node):
    def __init__(self, **node_kwargs: object) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        p = declare_parameters(self, PARAMETERS)
        self.unknown_parameters = warn_unknown_parameters(self)
        self.sequence = TargetSequence(p["targets"], p["target_hold"])
        self.publisher = self.create_publisher(PointStamped, "target", TARGET_QOS)
        self.create_timer(1.0 / p["publish_rate_hz"], self.publish_target)
        self.publish_target()

    def publish_target(self) -> None:
        now = self.get_clock().now()
        msg = PointStamped()
        msg.header.stamp, msg.header.frame_id = now.to_msg(), "world"
        point = self.sequence.at(now.nanoseconds * 1e-9)
        msg.point.x, msg.point.y, msg.point.z = (float(c) for c in point)
        self.publisher.publish(msg)


def main(args: list[str] | None = None) -> int:
    return run_nodes([TargetNode], args)
