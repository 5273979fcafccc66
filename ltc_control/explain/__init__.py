"""Explain a liquid policy: what its neurons do, how fast they are, what they listen to, and how
much of it a decision tree captures. Numpy, scikit-learn and matplotlib; no torch, no rclpy.

Entry point: `explain_policy(policy, trajectories, output_dir)` (report module); the pieces
(`record_policy`, `time_constants`, `input_saliency`, `tree_fidelity`, `draw_wiring`) are usable
alone. Rollouts come from bags/trajectory files (`load_trajectories`) or a closed-loop
simulation (`ltc_control.evaluation.simulate_trajectories`). Imports only the runtime, data and
evaluation (and the robot descriptions they share).
"""

from ltc_control.explain.errors import ExplainError
from ltc_control.explain.recording import (
    PolicyRecording,
    load_trajectories,
    record_policy,
    record_sequences,
    save_trajectories,
)
from ltc_control.explain.report import ExplainOptions, explain_policy
from ltc_control.explain.saliency import Saliency, input_saliency
from ltc_control.explain.time_constants import time_constants
from ltc_control.explain.trees import (
    HeldOutSplit,
    TreeFidelity,
    held_out_split,
    tree_fidelity,
    tree_rules,
)
from ltc_control.explain.wiring_graph import Synapse, draw_wiring, synapses

__all__ = [
    "ExplainError",
    "ExplainOptions",
    "HeldOutSplit",
    "PolicyRecording",
    "Saliency",
    "Synapse",
    "TreeFidelity",
    "draw_wiring",
    "explain_policy",
    "held_out_split",
    "input_saliency",
    "load_trajectories",
    "record_policy",
    "record_sequences",
    "save_trajectories",
    "synapses",
    "time_constants",
    "tree_fidelity",
    "tree_rules",
]
