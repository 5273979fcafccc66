"""Simulation: a torque-controlled MuJoCo arm, the reaching task, the expert that solves it, and
expert rollouts (as ltc_control.data Trajectories, the format data, training and evaluation
share)."""

from ltc_control.sim.expert import ExpertGains, OperationalSpaceExpert
from ltc_control.sim.plan import RolloutPlan, load_rollout_plan, rollout_plan_from_dict
from ltc_control.sim.rollouts import (
    RolloutConfig,
    collect_rollouts,
)
from ltc_control.sim.simulator import (
    ArmSimulator,
    Measurement,
    SimConfig,
    SimulatorError,
    random_mass_scale,
    sample_times,
)
from ltc_control.sim.task import (
    TARGET_LABELS,
    TargetSchedule,
    TargetSegment,
    TaskError,
)
from ltc_control.sim.workspace import Plane, Workspace

__all__ = [
    "TARGET_LABELS",
    "ArmSimulator",
    "ExpertGains",
    "Measurement",
    "OperationalSpaceExpert",
    "Plane",
    "RolloutConfig",
    "RolloutPlan",
    "SimConfig",
    "SimulatorError",
    "TargetSchedule",
    "TargetSegment",
    "TaskError",
    "Workspace",
    "collect_rollouts",
    "load_rollout_plan",
    "random_mass_scale",
    "rollout_plan_from_dict",
    "sample_times",
]
