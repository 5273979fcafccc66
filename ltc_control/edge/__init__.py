"""Running a liquid policy on a robot's own computer, without torch.

`ltc_control.runtime.paper_form` reads a policy's parameters in the form its equations use them
(positive, masked), for the ONNX exporter and the explainers. `ltc_control.edge.onnx_export`
(needs `onnx`, not on the robot) writes one network step as an ONNX graph;
`ltc_control.edge.onnx_runner` (needs only `onnxruntime` and numpy) steps that graph with the
same `step(x, dt)` contract as `ltc_control.runtime.LiquidPolicy`. This package imports nothing
at import time, so `import ltc_control.edge` is free on a board.
"""
