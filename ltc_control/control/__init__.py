"""The control loops' glue, free of ROS: message-stamp checks, the stateful policy controller
(PolicyController), the safety filter's torque loop (FilterLoop) and the command watchdog. The
nodes and the closed-loop evaluation both run these, so the network and the filter see the same
inputs and make the same decisions everywhere. Named signals live in runtime.signals."""
