"""Rigid-body dynamics of a RobotDescription, behind one interface with two backends.

    M(q) v' + h(q, v) = tau        (h = Coriolis/centrifugal + gravity, N·m)

- PinocchioDynamics: from the URDF with pinocchio; what a user points at a real robot.
- MujocoDynamics: from the MuJoCo model the simulator runs (robots.mujoco_model).
On the same robot they agree to ~1e-12 (test/robots/test_dynamics.py). Both exclude joint
damping/friction and contact forces: those are disturbances the safety margins must absorb.

Kinematics are of the end-effector point (RobotDescription.end_effector): position p (m, world
frame) and the translational Jacobian J (3 x dof) with p' = J v. `ee_jacobian_dot_v` is J' v, needed
by second-order (position/workspace) barrier functions. All arrays are float64 numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import mujoco
import numpy as np
import pinocchio as pin

from ltc_control.robots.description import RobotDescription
from ltc_control.robots.mujoco_model import END_EFFECTOR_SITE, build_mujoco_model, joint_addresses


@dataclass(frozen=True)
class DynamicsTerms:
    """Everything a controller or filter needs at one state (q, v)."""

    mass_matrix: np.ndarray  # (dof, dof), kg·m²
    bias: np.ndarray  # (dof,), N·m: Coriolis + gravity
    gravity: np.ndarray  # (dof,), N·m
    ee_position: np.ndarray  # (3,), m
    ee_jacobian: np.ndarray  # (3, dof), translational, world frame
    ee_jacobian_dot_v: np.ndarray  # (3,), m/s²: J'(q, v) v


class RobotDynamics(Protocol):
    robot: RobotDescription

    def terms(self, q: np.ndarray, v: np.ndarray) -> DynamicsTerms: ...

    def gravity(self, q: np.ndarray) -> np.ndarray: ...

    def kinematics(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class PinocchioDynamics:
    """Dynamics from the URDF with pinocchio (locked joints removed with buildReducedModel)."""

    def __init__(self, robot: RobotDescription) -> None:
        self.robot = robot
        model = pin.buildModelFromUrdf(str(robot.urdf_path))
        locked = [model.getJointId(name) for name in robot.locked_joints]
        if locked:
            reference = pin.neutral(model)
            model = pin.buildReducedModel(model, locked, reference)
        order = [model.getJointId(name) for name in robot.joint_names]
        if order != sorted(order) or len(order) != model.nv:
            raise ValueError(
                f"{robot.name}: controlled joints must be every movable joint, in URDF order"
            )
        self.model = model
        parent_frame = model.getFrameId(robot.end_effector.parent)
        placement = pin.SE3(np.eye(3), robot.end_effector.offset)
        frame = model.frames[parent_frame]
        self._ee_frame = model.addFrame(
            pin.Frame(
                "ltc_end_effector",
                frame.parentJoint,
                parent_frame,
                frame.placement * placement,
                pin.FrameType.OP_FRAME,
            )
        )
        self.data = model.createData()

    def gravity(self, q: np.ndarray) -> np.ndarray:
        """Gravity torque g(q), N·m: the cheap term a gravity-compensated command needs."""
        return pin.computeGeneralizedGravity(self.model, self.data, q).copy()

    def kinematics(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """End-effector position (m) and translational Jacobian (3 x dof), world frame: the
        kinematics alone (inverse kinematics iterates on it; ~15x cheaper than `terms`)."""
        model, data, frame = self.model, self.data, self._ee_frame
        pin.computeJointJacobians(model, data, q)
        pin.updateFramePlacement(model, data, frame)
        world = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
        jacobian = pin.getFrameJacobian(model, data, frame, world)[:3]
        return data.oMf[frame].translation.copy(), jacobian.copy()

    def end_effector(self, q: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """End-effector position (m) and linear velocity (m/s), world frame: the kinematics
        alone (runtime.signals' model senses; cheaper than `terms`)."""
        model, data, frame = self.model, self.data, self._ee_frame
        pin.forwardKinematics(model, data, q, v)
        pin.updateFramePlacement(model, data, frame)
        world = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
        velocity = pin.getFrameVelocity(model, data, frame, world).linear
        return data.oMf[frame].translation.copy(), np.array(velocity)

    def terms(self, q: np.ndarray, v: np.ndarray) -> DynamicsTerms:
        model, data, frame = self.model, self.data, self._ee_frame
        pin.computeAllTerms(model, data, q, v)
        mass = np.triu(data.M) + np.triu(data.M, 1).T
        pin.computeJointJacobiansTimeVariation(model, data, q, v)
        world = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
        jacobian = pin.getFrameJacobian(model, data, frame, world)[:3]
        # Classical (not spatial) acceleration of the point with zero joint acceleration = J' v.
        pin.forwardKinematics(model, data, q, v, np.zeros(model.nv))
        jdot_v = pin.getFrameClassicalAcceleration(model, data, frame, world).linear
        return DynamicsTerms(
            mass_matrix=mass,
            bias=data.nle.copy(),
            gravity=self.gravity(q),
            ee_position=data.oMf[frame].translation.copy(),
            ee_jacobian=jacobian.copy(),
            ee_jacobian_dot_v=np.array(jdot_v),
        )


class MujocoDynamics:
    """Dynamics from the simulator's own MuJoCo model (same URDF, built by robots.mujoco_model)."""

    def __init__(self, robot: RobotDescription, model: mujoco.MjModel | None = None) -> None:
        self.robot = robot
        self.model = model if model is not None else build_mujoco_model(robot)
        self.data = mujoco.MjData(self.model)
        self._gravity_data = mujoco.MjData(self.model)
        self._qpos, self._qvel = joint_addresses(self.model, robot)
        self._site = self.model.site(END_EFFECTOR_SITE).id

    def terms(self, q: np.ndarray, v: np.ndarray) -> DynamicsTerms:
        model, data = self.model, self.data
        data.qpos[self._qpos] = q
        data.qvel[self._qvel] = v
        mujoco.mj_forward(model, data)
        full = np.zeros((model.nv, model.nv))
        mujoco.mj_fullM(model, data, full)
        dofs = self._qvel
        jacp = np.zeros((3, model.nv))
        mujoco.mj_jacSite(model, data, jacp, None, self._site)
        jacp_dot = np.zeros((3, model.nv))
        mujoco.mj_jacDot(
            model, data, jacp_dot, None, data.site_xpos[self._site], model.site_bodyid[self._site]
        )
        gravity = self.gravity(q)
        return DynamicsTerms(
            mass_matrix=full[np.ix_(dofs, dofs)],
            bias=data.qfrc_bias[dofs].copy(),
            gravity=gravity,
            ee_position=data.site_xpos[self._site].copy(),
            ee_jacobian=jacp[:, dofs],
            ee_jacobian_dot_v=jacp_dot[:, dofs] @ v,
        )

    def kinematics(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        terms = self.terms(q, np.zeros(len(q)))
        return terms.ee_position, terms.ee_jacobian

    def gravity(self, q: np.ndarray) -> np.ndarray:
        data = self._gravity_data  # bias forces at zero velocity are gravity alone
        data.qpos[self._qpos] = q
        mujoco.mj_forward(self.model, data)
        return data.qfrc_bias[self._qvel].copy()
