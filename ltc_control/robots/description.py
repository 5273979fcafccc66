"""Load a robot description: a small YAML file on top of a URDF.

Promises:
- Joint limits come from the URDF. The YAML may tighten them, never loosen them; a limit the URDF
  leaves unspecified (absent, or 0 as some exporters write) must be given in the YAML.
- Units: positions rad (revolute) or m (prismatic), velocities rad/s or m/s, efforts N·m or N,
  lengths m. Frames: the robot's base frame is the world frame (z up, gravity -9.81 z).
- Every error names the file and the key at fault (RobotDescriptionError).

YAML keys: name, urdf {package: example-robot-data, file: <relative path>} (found by
ltc_control.resources.example_robot_data_dir) or urdf {path: <file, relative to the YAML's folder>},
joints [controlled joints, in command order], locked_joints {name: position}, end_effector
{parent: <link or frame>, offset: [x, y, z], contact_radius}, home [one value per joint],
limits {lower|upper|velocity|effort: [one value per joint]} (tightening), table {height, center,
size}.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.config_files import read_mapping
from ltc_control.errors import ConfigError
from ltc_control.resources import available_robots, example_robot_data_dir, robot_config

_LIMIT_KINDS = ("lower", "upper", "velocity", "effort")


class RobotDescriptionError(ConfigError):
    """The robot YAML or its URDF is missing, malformed, or inconsistent."""


@dataclass(frozen=True)
class JointLimits:
    """Per-joint limits, in the order of RobotDescription.joint_names."""

    lower: np.ndarray
    upper: np.ndarray
    velocity: np.ndarray
    effort: np.ndarray

    def as_dict(self) -> dict[str, list[float]]:
        return {kind: getattr(self, kind).tolist() for kind in _LIMIT_KINDS}


@dataclass(frozen=True)
class EndEffector:
    """The controlled point: `offset` (m) in the frame of link `parent`."""

    parent: str
    offset: np.ndarray
    contact_radius: float  # m; the sphere that touches the table in the simulator


@dataclass(frozen=True)
class Table:
    """A box whose top face (at z = height, m) the end effector can touch."""

    height: float
    center: tuple[float, float]
    size: tuple[float, float]  # full extent along x and y, m


@dataclass(frozen=True)
class RobotDescription:
    name: str
    urdf_path: Path
    joint_names: tuple[str, ...]
    locked_joints: dict[str, float]
    end_effector: EndEffector
    limits: JointLimits
    urdf_limits: JointLimits  # as the URDF states them (nan where unspecified)
    home: np.ndarray
    table: Table
    source: Path = field(default=Path())

    @property
    def dof(self) -> int:
        return len(self.joint_names)


def load_robot_description(name_or_path: str | Path) -> RobotDescription:
    """Load `config/<name>/robot.yaml`, or a YAML file given by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        if str(name_or_path) not in available_robots():
            raise RobotDescriptionError(
                f"robot description {str(name_or_path)!r} not found (shipped robots: "
                f"{', '.join(available_robots())}; or give the path of a robot YAML file)"
            )
        path = robot_config(str(name_or_path), "robot")
    path = path.expanduser().absolute()
    return _build(read_mapping(path, "robot description", RobotDescriptionError), path)


def _build(data: dict[str, Any], source: Path) -> RobotDescription:
    reader = _Reader(data, source)
    urdf_path = _resolve_urdf(reader.get("urdf", dict), source)
    joints = tuple(reader.get("joints", list))
    urdf_joints = _parse_urdf_joints(urdf_path)
    unknown = [j for j in joints if j not in urdf_joints]
    if unknown or not joints:
        raise RobotDescriptionError(
            f"{source}: joints {unknown or '[]'} not in {urdf_path.name} "
            f"(it has {', '.join(urdf_joints)})"
        )
    urdf_limits = JointLimits(
        *(np.array([urdf_joints[j][kind] for j in joints]) for kind in _LIMIT_KINDS)
    )
    limits = _tighten(urdf_limits, reader.get("limits", dict, default={}), joints, source)
    ee = reader.get("end_effector", dict)
    table = reader.get("table", dict)
    return RobotDescription(
        name=reader.get("name", str),
        urdf_path=urdf_path,
        joint_names=joints,
        locked_joints={str(k): float(v) for k, v in reader.get("locked_joints", dict, {}).items()},
        end_effector=EndEffector(
            parent=str(ee["parent"]),
            offset=_vector(ee.get("offset", [0.0, 0.0, 0.0]), 3, "end_effector.offset", source),
            contact_radius=float(ee.get("contact_radius", 0.02)),
        ),
        limits=limits,
        urdf_limits=urdf_limits,
        home=_vector(reader.get("home", list), len(joints), "home", source),
        table=Table(
            height=float(table["height"]),
            center=tuple(_vector(table["center"], 2, "table.center", source)),
            size=tuple(_vector(table["size"], 2, "table.size", source)),
        ),
        source=source,
    )


class _Reader:
    """Typed access to YAML keys with errors that name the file and the key."""

    def __init__(self, data: dict[str, Any], source: Path) -> None:
        self._data, self._source = data, source

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        if key not in self._data:
            if default is not None:
                return default
            raise RobotDescriptionError(f"{self._source}: missing key '{key}'")
        value = self._data[key]
        if not isinstance(value, kind):
            raise RobotDescriptionError(
                f"{self._source}: '{key}' must be a {kind.__name__}, got {type(value).__name__}"
            )
        return value


def _vector(values: Any, size: int, key: str, source: Path) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise RobotDescriptionError(f"{source}: '{key}' must be numbers: {exc}") from exc
    if array.shape != (size,) or not np.all(np.isfinite(array)):
        raise RobotDescriptionError(
            f"{source}: '{key}' must be {size} finite numbers, got {values}"
        )
    return array


def _resolve_urdf(spec: dict[str, Any], source: Path) -> Path:
    if "path" in spec:
        path = (source.parent / str(spec["path"])).resolve()
    elif spec.get("package") == "example-robot-data":
        try:
            path = example_robot_data_dir() / str(spec["file"])
        except ConfigError as exc:
            raise RobotDescriptionError(f"{source}: {exc}") from exc
    else:
        raise RobotDescriptionError(
            f"{source}: 'urdf' needs 'path', or 'package: example-robot-data' with 'file'"
        )
    if not path.is_file():
        raise RobotDescriptionError(f"{source}: URDF {path} not found")
    return path


def _parse_urdf_joints(urdf_path: Path) -> dict[str, dict[str, float]]:
    """Limits of every movable joint; nan where the URDF leaves a limit unspecified."""
    try:
        root = ET.parse(urdf_path).getroot()
    except ET.ParseError as exc:
        raise RobotDescriptionError(f"{urdf_path}: malformed URDF: {exc}") from exc
    joints = {}
    # Direct children only: <transmission> blocks also contain <joint> elements.
    for joint in root.findall("joint"):
        if joint.get("type") in ("fixed", "floating", "planar"):
            continue
        limit = joint.find("limit")
        attrs = limit.attrib if limit is not None else {}
        values = {kind: float(attrs.get(kind, "nan")) for kind in _LIMIT_KINDS}
        # Exporters write 0 for "not set": a zero effort/velocity or an empty range is no limit.
        for kind in ("velocity", "effort"):
            if values[kind] == 0.0:
                values[kind] = math.nan
        if joint.get("type") == "continuous" or values["lower"] == values["upper"]:
            values["lower"] = values["upper"] = math.nan
        joints[joint.get("name")] = values
    return joints


def _tighten(
    urdf: JointLimits, overrides: dict[str, Any], joints: tuple[str, ...], source: Path
) -> JointLimits:
    """Apply the YAML's limits: they may fill a gap in the URDF or tighten it, never loosen it."""
    unknown = set(overrides) - set(_LIMIT_KINDS)
    if unknown:
        raise RobotDescriptionError(f"{source}: unknown limit kinds {sorted(unknown)}")
    result = {}
    for kind in _LIMIT_KINDS:
        base = getattr(urdf, kind)
        if kind not in overrides:
            value = base
        else:
            value = _vector(overrides[kind], len(joints), f"limits.{kind}", source)
            tighter = value >= base if kind == "lower" else value <= base
            loosened = ~np.isnan(base) & ~tighter
            if loosened.any():
                names = [joints[i] for i in np.flatnonzero(loosened)]
                raise RobotDescriptionError(
                    f"{source}: limits.{kind} loosens the URDF's limit for {names}: "
                    f"URDF {base[loosened].tolist()}, YAML {value[loosened].tolist()}"
                )
        if np.isnan(value).any():
            names = [joints[i] for i in np.flatnonzero(np.isnan(value))]
            raise RobotDescriptionError(
                f"{source}: the URDF gives no {kind} limit for {names}; set limits.{kind}"
            )
        result[kind] = value
    if np.any(result["lower"] >= result["upper"]) or np.any(result["velocity"] <= 0):
        raise RobotDescriptionError(f"{source}: limits must have lower < upper and velocity > 0")
    if np.any(result["effort"] <= 0):
        raise RobotDescriptionError(f"{source}: effort limits must be positive")
    return JointLimits(**result)
