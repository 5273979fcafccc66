"""The model quantities the safety filter needs at one state, computed as cheaply as possible.

    M(q) a + h(q, v) + D v = u    =>    a = M⁻¹ u + a0,   a0 = -M⁻¹ (h + D v)

(a0 is the joint acceleration at u = 0). D is the URDF's viscous joint damping (<dynamics
damping>), which the simulator applies too: on light links it is not negligible (the double
pendulum's 0.05 N·m·s/rad moves its tip acceleration by ~100 rad/s² at 1 rad/s), so the filter
models it instead of leaving it to the margins. Joint friction is not modelled (none in these URDFs).

`FilterTerms` holds M⁻¹, a0 and the end-effector kinematics (position p, translational Jacobian J
in the world frame, J' v). Every constraint of the filter is linear in u through these.

`PinocchioFilterModel` is a lean call sequence on the lead's pinocchio model (same URDF, same
end-effector frame as ltc_control.robots.dynamics.PinocchioDynamics): crba + pinocchio's sparse
Cholesky for M⁻¹ (full and symmetric, ~2 µs; computeMinverse returns only a triangle),
nonLinearEffects, one forwardKinematics pass at zero acceleration that gives both J and J'v.
About 4x cheaper than PinocchioDynamics.terms followed by a numpy inverse.
`DynamicsFilterModel` adapts any RobotDynamics backend (e.g. MujocoDynamics) through its terms().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pinocchio as pin

from ltc_control.robots.description import RobotDescription
from ltc_control.robots.dynamics import PinocchioDynamics, RobotDynamics

_WORLD = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
_EE_FRAME_NAME = "ltc_end_effector"  # the frame PinocchioDynamics adds at the end-effector point


@dataclass(frozen=True)
class FilterTerms:
    inverse_mass: np.ndarray  # (dof, dof), 1/(kg·m²)
    free_acceleration: np.ndarray  # (dof,), rad/s²: a0 = -M⁻¹ (h + D v)
    ee_position: np.ndarray  # (3,), m, world frame
    ee_jacobian: np.ndarray  # (3, dof), m/rad, world frame
    ee_jacobian_dot_v: np.ndarray  # (3,), m/s²


class FilterModel(Protocol):
    robot: RobotDescription

    def terms(self, q: np.ndarray, v: np.ndarray) -> FilterTerms: ...

    def gravity(self, q: np.ndarray) -> np.ndarray: ...


class PinocchioFilterModel:
    """Lean pinocchio evaluation of FilterTerms (the default model of SafetyFilter)."""

    def __init__(self, robot: RobotDescription, dynamics: PinocchioDynamics | None = None) -> None:
        self.robot = robot
        dynamics = dynamics if dynamics is not None else PinocchioDynamics(robot)
        self.model = dynamics.model
        self.data = self.model.createData()
        self._frame = self.model.getFrameId(_EE_FRAME_NAME)
        self._zero = np.zeros(self.model.nv)
        self.joint_damping = self.model.damping.copy()  # N·m·s/rad, from the URDF

    def terms(self, q: np.ndarray, v: np.ndarray) -> FilterTerms:
        model, data, frame = self.model, self.data, self._frame
        pin.crba(model, data, q)
        pin.cholesky.decompose(model, data)
        inverse_mass = pin.cholesky.computeMinv(model, data)  # full, symmetric, a new array
        bias = pin.nonLinearEffects(model, data, q, v) + self.joint_damping * v
        pin.forwardKinematics(model, data, q, v, self._zero)
        pin.computeJointJacobians(model, data)
        placement = pin.updateFramePlacement(model, data, frame)
        # getFrameJacobian and .linear return new arrays; the translation is a view into data.
        return FilterTerms(
            inverse_mass=inverse_mass,
            free_acceleration=-(inverse_mass @ bias),
            ee_position=placement.translation.copy(),
            ee_jacobian=pin.getFrameJacobian(model, data, frame, _WORLD)[:3],
            ee_jacobian_dot_v=pin.getFrameClassicalAcceleration(model, data, frame, _WORLD).linear,
        )

    def gravity(self, q: np.ndarray) -> np.ndarray:
        return pin.computeGeneralizedGravity(self.model, self.data, q).copy()


class DynamicsFilterModel:
    """FilterTerms from any RobotDynamics backend (slower: full terms() and a numpy inverse);
    `joint_damping` (N·m·s/rad) is added to its bias forces (default: none)."""

    def __init__(self, dynamics: RobotDynamics, joint_damping: np.ndarray | None = None) -> None:
        self.robot = dynamics.robot
        self.dynamics = dynamics
        dof = dynamics.robot.dof
        self.joint_damping = np.zeros(dof) if joint_damping is None else joint_damping

    def terms(self, q: np.ndarray, v: np.ndarray) -> FilterTerms:
        terms = self.dynamics.terms(q, v)
        inverse_mass = np.linalg.inv(terms.mass_matrix)
        return FilterTerms(
            inverse_mass=inverse_mass,
            free_acceleration=-(inverse_mass @ (terms.bias + self.joint_damping * v)),
            ee_position=terms.ee_position,
            ee_jacobian=terms.ee_jacobian,
            ee_jacobian_dot_v=terms.ee_jacobian_dot_v,
        )

    def gravity(self, q: np.ndarray) -> np.ndarray:
        return self.dynamics.gravity(q)


def filter_model_for(robot: RobotDescription, dynamics: RobotDynamics | None) -> FilterModel:
    """The fastest FilterModel for a given backend (None = pinocchio from the robot's URDF); a
    non-pinocchio backend gets the URDF's joint damping added."""
    if dynamics is None or isinstance(dynamics, PinocchioDynamics):
        return PinocchioFilterModel(robot, dynamics)
    return DynamicsFilterModel(dynamics, PinocchioDynamics(robot).model.damping.copy())
