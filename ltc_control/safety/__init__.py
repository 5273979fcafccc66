"""The safety filter core: a QP that returns the closest command respecting the robot's limits.

Public API (see INTERFACES.md): SafetyConfig, load_safety_config, SafetyFilter, FilterResult,
SafetyInputError; the constraint classes for composing a custom filter; the cvxpy specification
(ltc_control.safety.spec) and the differentiable BarrierNet layer (ltc_control.safety.layer,
imports torch) are imported from their modules so this package stays light. No rclpy here.
"""

from ltc_control.safety.config import SafetyConfig, load_safety_config
from ltc_control.safety.constraints import (
    BarrierRows,
    EndEffectorForceBound,
    JointPositionCBF,
    JointVelocityCBF,
    TorqueBox,
    WorkspaceCBF,
    build_constraints,
)
from ltc_control.safety.filter import FilterResult, SafetyFilter, SafetyInputError

__all__ = [
    "BarrierRows",
    "EndEffectorForceBound",
    "FilterResult",
    "JointPositionCBF",
    "JointVelocityCBF",
    "SafetyConfig",
    "SafetyFilter",
    "SafetyInputError",
    "TorqueBox",
    "WorkspaceCBF",
    "build_constraints",
    "load_safety_config",
]
