"""Robot descriptions: which URDF, which joints, which limits, where the table is.

One YAML file per robot, config/<robot>/robot.yaml, names a URDF (from the installed
example-robot-data package or any path) and what the controller needs on top of it. Dynamics backends (pinocchio,
MuJoCo) and the simulator are all built from the same RobotDescription, so the safety filter
reasons about the robot the simulator simulates.
"""

from ltc_control.resources import available_robots
from ltc_control.robots.description import (
    EndEffector,
    JointLimits,
    RobotDescription,
    RobotDescriptionError,
    Table,
    load_robot_description,
)

__all__ = [
    "EndEffector",
    "JointLimits",
    "RobotDescription",
    "RobotDescriptionError",
    "Table",
    "available_robots",
    "load_robot_description",
]
