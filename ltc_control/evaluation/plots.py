"""The closed-loop run as a figure: tracking, joints against limits, torques against limits,
contact force against F_max, filter activity. matplotlib is imported only here (Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ltc_control.data.trajectory import Trajectory
from ltc_control.evaluation.run_metrics import Recording, RunSummary, end_effector_errors
from ltc_control.robots.description import RobotDescription


def plot_run(
    recording: Recording,
    trajectory: Trajectory,
    summary: RunSummary,
    robot: RobotDescription,
    path: Path,
) -> Path:
    """`trajectory`: recording.trajectory(...) (joints, targets, applied torque); the filter's
    activity and the contact force come from their own streams in `recording`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = trajectory.t
    limits = robot.limits
    fig, axes = plt.subplots(5, 1, figsize=(10, 13), sharex=True)
    axes[0].plot(t, end_effector_errors(trajectory))
    axes[0].set_ylabel("EE error (m)")
    axes[0].set_title(f"{robot.name}: tracking RMSE {summary.tracking_rmse_m:.3f} m")
    span = limits.upper - limits.lower
    axes[1].plot(t, (trajectory.q - limits.lower) / span)
    axes[1].axhline(0.0, color="k", ls="--")
    axes[1].axhline(1.0, color="k", ls="--")
    axes[1].set_ylabel("q (fraction of range)")
    axes[2].plot(t, trajectory.tau / limits.effort)
    for bound in (-1.0, 1.0):
        axes[2].axhline(bound, color="r", ls="--")
    axes[2].set_ylabel("torque / limit")
    force = np.linalg.norm(recording.arrays("contact_force").reshape(-1, 3), axis=1)
    axes[3].plot(recording.arrays("wrench_time"), force, label="measured")
    axes[3].axhline(summary.force_limit_n, color="r", ls="--", label="F_max")
    axes[3].set_ylabel("contact force (N)")
    axes[3].legend(loc="upper right")
    status_t = recording.arrays("status_time")
    change = np.linalg.norm(
        np.nan_to_num(recording.arrays("nominal") - recording.arrays("safe")), axis=1
    )
    axes[4].plot(status_t, change, label="|safe - nominal| (N·m)")
    braking = np.asarray(recording.mode) != 0
    axes[4].plot(status_t[braking], change[braking], "rx", label="braking")
    axes[4].set_ylabel("filter")
    axes[4].set_xlabel("sim time (s)")
    axes[4].legend(loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
