"""Build the MuJoCo model of a RobotDescription: the same URDF the dynamics model reads.

What is added to the URDF, and why:
- Mesh geoms are removed (their `package://` URIs do not resolve outside ROS, and the contact task
  only needs primitives). Links therefore do not collide with the table; only the end-effector
  sphere does. Static bodies are not fused, so the end-effector parent keeps its own body.
- Locked joints (e.g. the Panda's fingers) are removed: their bodies become rigid at position 0,
  exactly what pinocchio's reduced model assumes (locked values other than 0 are rejected).
- A site `end_effector` at the end-effector point, a contact sphere there, a table box, a force/
  torque-free `motor` actuator per controlled joint (ctrl = joint torque, N·m, clamped to the
  effort limit like a real drive), and joint position/velocity sensors.
- Joint ranges become end stops END_STOP_MARGIN outside the position limits.
- Joint damping and friction from the URDF are kept (the simulator's, not the filter's, concern).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import mujoco
import numpy as np

from ltc_control.robots.description import RobotDescription, RobotDescriptionError
from ltc_control.robots.urdf_export import write_description_limits

END_EFFECTOR_SITE = "end_effector"
END_EFFECTOR_GEOM = "end_effector_contact"
TABLE_GEOM = "table"
TABLE_THICKNESS = 0.05  # m
# Mechanical end stops sit this far outside the software position limits (rad or m), so the
# simulator can show a limit violation instead of hiding it behind a hard stop.
END_STOP_MARGIN = 0.15


def build_mujoco_spec(robot: RobotDescription, timestep: float = 0.001) -> mujoco.MjSpec:
    """The editable MjSpec (callers may add bodies, e.g. target markers, before compiling)."""
    # The description's limits replace the URDF's before MuJoCo reads it (a URDF may write 0 for
    # "unspecified", which MuJoCo would warn about); end stops are set from them below.
    root = ET.parse(robot.urdf_path).getroot()
    write_description_limits(root, robot)
    spec = mujoco.MjSpec.from_string(ET.tostring(root, encoding="unicode"))
    spec.compiler.fusestatic = False
    spec.compiler.discardvisual = True
    spec.option.timestep = timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    _remove_meshes(spec)
    _lock_joints(spec, robot)
    _set_end_stops(spec, robot)
    _add_end_effector(spec, robot)
    _add_table(spec, robot)
    _add_motors(spec, robot)
    return spec


def build_mujoco_model(robot: RobotDescription, timestep: float = 0.001) -> mujoco.MjModel:
    return build_mujoco_spec(robot, timestep).compile()


def joint_addresses(
    model: mujoco.MjModel, robot: RobotDescription
) -> tuple[np.ndarray, np.ndarray]:
    """qpos and qvel indices of the controlled joints, in the description's order."""
    ids = [model.joint(name).id for name in robot.joint_names]
    return model.jnt_qposadr[ids].copy(), model.jnt_dofadr[ids].copy()


def _remove_meshes(spec: mujoco.MjSpec) -> None:
    for geom in list(spec.geoms):
        if geom.type == mujoco.mjtGeom.mjGEOM_MESH:
            spec.delete(geom)
    for mesh in list(spec.meshes):
        spec.delete(mesh)


def _lock_joints(spec: mujoco.MjSpec, robot: RobotDescription) -> None:
    for name, position in robot.locked_joints.items():
        if position != 0.0:
            raise RobotDescriptionError(
                f"{robot.source}: locked joint {name} at {position}: only 0 is supported"
            )
        joint = spec.joint(name)
        if joint is None:
            raise RobotDescriptionError(f"{robot.source}: locked joint {name} not in the URDF")
        spec.delete(joint)
    # URDF <mimic> tags become equality constraints naming the joints: drop those left dangling.
    for equality in list(spec.equalities):
        if {equality.name1, equality.name2} & set(robot.locked_joints):
            spec.delete(equality)


def _set_end_stops(spec: mujoco.MjSpec, robot: RobotDescription) -> None:
    for name, lower, upper in zip(
        robot.joint_names, robot.limits.lower, robot.limits.upper, strict=True
    ):
        joint = spec.joint(name)
        joint.limited = mujoco.mjtLimited.mjLIMITED_TRUE
        joint.range = [lower - END_STOP_MARGIN, upper + END_STOP_MARGIN]


def _add_end_effector(spec: mujoco.MjSpec, robot: RobotDescription) -> None:
    ee = robot.end_effector
    body = spec.body(ee.parent)
    if body is None:
        raise RobotDescriptionError(f"{robot.source}: end-effector parent {ee.parent} not found")
    body.add_site(name=END_EFFECTOR_SITE, pos=ee.offset, size=[0.005, 0.005, 0.005])
    body.add_geom(
        name=END_EFFECTOR_GEOM,
        type=mujoco.mjtGeom.mjGEOM_SPHERE,
        size=[ee.contact_radius, 0, 0],
        pos=ee.offset,
        mass=0.0,  # keep the URDF's inertia: the sphere is a contact surface, not a body part
        contype=1,
        conaffinity=1,
    )


def _add_table(spec: mujoco.MjSpec, robot: RobotDescription) -> None:
    table = robot.table
    half = [table.size[0] / 2, table.size[1] / 2, TABLE_THICKNESS / 2]
    spec.worldbody.add_geom(
        name=TABLE_GEOM,
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=half,
        pos=[table.center[0], table.center[1], table.height - TABLE_THICKNESS / 2],
        contype=1,
        conaffinity=1,
        rgba=[0.6, 0.45, 0.3, 1.0],
    )


def _add_motors(spec: mujoco.MjSpec, robot: RobotDescription) -> None:
    for name, effort in zip(robot.joint_names, robot.limits.effort, strict=True):
        spec.add_actuator(
            name=f"{name}_motor",
            target=name,
            trntype=mujoco.mjtTrn.mjTRN_JOINT,
            gainprm=[1.0] + [0.0] * 9,
            ctrllimited=True,
            ctrlrange=[-effort, effort],
        )
