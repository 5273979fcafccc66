"""The control loop's glue, free of ROS: observations from named signals, message-stamp checks,
the stateful policy controller and the command watchdog. Nodes, the closed-loop evaluation and
training all use these, so the network sees the same inputs everywhere."""
