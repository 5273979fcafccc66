"""Traffic from another process: a flood of input messages, or a slow subscriber.

    python traffic.py flood RATE_HZ SECONDS     joint_states, nominal_command and target, each at
                                                RATE_HZ (wall-clock stamps; every 4th joint state
                                                and nominal command malformed), in 1 ms bursts,
                                                once every topic has a subscriber
    python traffic.py slow SECONDS DELAY_S      subscribes commands and safety_status; each
                                                callback sleeps DELAY_S (a subscriber that cannot
                                                keep up)

Prints "ready" when it starts, then one JSON line when done: messages published (or received) per topic and the achieved rate.
"""

from __future__ import annotations

import json
import sys
import time

import rclpy
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from ltc_control.msg import SafetyStatus
from ltc_control.nodes.fields import time_msg
from ltc_control.nodes.target_node import TARGET_QOS
from ltc_control.robots import load_robot_description

ROBOT = load_robot_description("panda")


def flood(node: Node, rate_hz: float, seconds: float) -> dict[str, float]:
    publishers = [
        node.create_publisher(JointState, "joint_states", 10),
        node.create_publisher(JointState, "nominal_command", 10),
        node.create_publisher(PointStamped, "target", TARGET_QOS),
    ]
    names, home, zeros = list(ROBOT.joint_names), ROBOT.home.tolist(), [0.0] * ROBOT.dof
    good = [
        JointState(name=names, position=home, velocity=zeros),
        JointState(name=names, effort=zeros),
        PointStamped(),
    ]
    good[2].point.x, good[2].point.z = 0.5, 0.5
    bad = [
        JointState(name=names, position=home),  # no velocities
        JointState(name=names, effort=[float("nan")] * ROBOT.dof),
        good[2],
    ]
    _wait_for_subscribers(node, publishers)
    print("ready", flush=True)
    start = time.perf_counter()
    sent = 0
    while (now := time.perf_counter()) - start < seconds:
        # Every millisecond, a burst of whatever is due: the average rate holds without a
        # busy-wait eating a core (sleep() cannot pace single messages at 5 kHz).
        due = int((now - start) * rate_hz) + 1
        while sent < due:
            stamp = time_msg(time.time())
            for publisher, msg in zip(publishers, bad if sent % 4 == 3 else good, strict=True):
                msg.header.stamp = stamp
                publisher.publish(msg)
            sent += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    return {"published_per_topic": sent, "rate_hz": sent / elapsed, "seconds": elapsed}


def _wait_for_subscribers(node: Node, publishers: list, timeout: float = 20.0) -> None:
    """Discovery across processes takes up to seconds on a loaded machine."""
    deadline = time.monotonic() + timeout
    while any(p.get_subscription_count() == 0 for p in publishers):
        if time.monotonic() > deadline:
            raise TimeoutError("nobody subscribes to the flooded topics")
        time.sleep(0.01)


def slow(node: Node, seconds: float, delay_s: float) -> dict[str, float]:
    received = {"commands": 0, "safety_status": 0}

    def callback(topic: str):
        def on_message(msg: object) -> None:
            received[topic] += 1
            time.sleep(delay_s)

        return on_message

    node.create_subscription(Float64MultiArray, "commands", callback("commands"), 10)
    node.create_subscription(SafetyStatus, "safety_status", callback("safety_status"), 10)
    print("ready", flush=True)
    executor = rclpy.executors.SingleThreadedExecutor()
    executor.add_node(node)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.01)
    return {"received": received, "seconds": seconds}


def main(argv: list[str]) -> int:
    mode, *numbers = argv
    rclpy.init()
    node = Node(f"traffic_{mode}")
    if mode == "flood":
        result = flood(node, float(numbers[0]), float(numbers[1]))
    else:
        result = slow(node, float(numbers[0]), float(numbers[1]))
    print(json.dumps(result), flush=True)
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
