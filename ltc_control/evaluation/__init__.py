"""Closed-loop evaluation: policy episodes in the simulator (closed_loop), the safety filter's
episodes against the robot's limits (safety_episodes), the metrics of a recorded ROS run
(run_metrics) and its figure (plots)."""
