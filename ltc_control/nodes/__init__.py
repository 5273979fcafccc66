"""ROS 2 adapters: the only place rclpy meets the cores. Each node parses messages, calls a core
(runtime, safety filter, simulator) and publishes; the maths lives elsewhere."""
