"""rosbag2 recordings (MCAP or sqlite3) <-> Trajectory, with `rosbags` (no ROS install needed).

Topics (BagTopics, renameable):
- `/joint_states` sensor_msgs/JointState: header.stamp = sample time; position (rad) and velocity
  (rad/s) are matched to the robot's joints BY NAME (any order, extra joints ignored).
- `/target` geometry_msgs/PointStamped: the end-effector target (m, frame `world`), written when
  it changes; a sample uses the latest target stamped at or before it.
- `/effort_controller/commands` std_msgs/Float64MultiArray: joint torques (N·m) in the robot's
  joint order (as ros2_control's forward command controller expects), no stamp: a sample's command
  is the first one recorded at or after its stamp and before the next sample's.
Samples with no target yet or no command are dropped (counted in Trajectory.info).

Writing puts episodes one after another (EPISODE_GAP_S apart, from BAG_START_NS); reading splits
where consecutive joint states are more than `split_gap_s` apart, and each trajectory's t starts
at 0. The robot's name is stored in the bag's custom metadata (`ltc_control.robot`), so
read_bag can compute ee_position (forward kinematics of the recorded q) without being told.
Round trip: arrays equal to 1e-9 (times are stored as integer nanoseconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from rosbags.rosbag2 import Reader, ReaderError, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from ltc_control.data.errors import (
    BagFormatError,
    BagNotFoundError,
    JointNameError,
    MissingTopicError,
    NonFiniteDataError,
)
from ltc_control.data.trajectory import Trajectory
from ltc_control.robots import RobotDescription, load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics

BAG_START_NS = 1_700_000_000 * 10**9  # a plausible wall-clock origin for written bags
EPISODE_GAP_S = 1.0
COMMAND_LATENCY_NS = 100_000  # 0.1 ms: the command is recorded just after its state
ROBOT_KEY = "ltc_control.robot"
STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
_TYPESTORE = get_typestore(Stores.ROS2_KILTED)
_JOINT_STATE = "sensor_msgs/msg/JointState"
_POINT_STAMPED = "geometry_msgs/msg/PointStamped"
_COMMAND = "std_msgs/msg/Float64MultiArray"


@dataclass(frozen=True)
class BagTopics:
    joint_states: str = "/joint_states"
    target: str = "/target"
    command: str = "/effort_controller/commands"

    def types(self) -> dict[str, str]:
        return {
            self.joint_states: _JOINT_STATE,
            self.target: _POINT_STAMPED,
            self.command: _COMMAND,
        }


def write_bag(
    trajectories: Sequence[Trajectory],
    path: str | Path,
    storage: Literal["mcap", "sqlite3"] = "mcap",
    topics: BagTopics | None = None,
    joint_order: Sequence[str] | None = None,
    frame_id: str = "world",
) -> Path:
    """Write trajectories (same robot) as one bag directory at `path` (must not exist).
    `joint_order` permutes the JointState arrays (default: the robot's order)."""
    topics = topics if topics is not None else BagTopics()
    if storage not in STORAGES:
        raise BagFormatError(f"storage must be one of {sorted(STORAGES)}, got {storage!r}")
    if not trajectories:
        raise BagFormatError("write_bag needs at least one trajectory")
    first = trajectories[0]
    for trajectory in trajectories:
        _check_writable(trajectory, first)
    order = _joint_permutation(first.joint_names, joint_order)
    path = Path(path)
    if path.exists():
        raise BagFormatError(f"{path} exists; rosbag2 writes a new directory")
    writer = Writer(path, version=9, storage_plugin=STORAGES[storage])
    writer.open()
    try:
        writer.set_custom_data(ROBOT_KEY, first.robot)
        connections = {
            topic: writer.add_connection(topic, msgtype, typestore=_TYPESTORE)
            for topic, msgtype in topics.types().items()
        }
        start = BAG_START_NS
        for trajectory in trajectories:
            _write_episode(writer, connections, topics, trajectory, start, order, frame_id)
            start += _ns(trajectory.t[-1] + EPISODE_GAP_S)
    finally:
        writer.close()
    return path


def read_bag(
    path: str | Path,
    robot: RobotDescription | str | None = None,
    topics: BagTopics | None = None,
    split_gap_s: float = 0.5,
    allow_nonfinite: bool = False,
) -> list[Trajectory]:
    """Trajectories recorded in the bag at `path` (see the module docstring for alignment).
    `robot` defaults to the one named in the bag's metadata. With allow_nonfinite, NaN/inf
    values are kept (for curate() to drop and count) instead of raising NonFiniteDataError."""
    path = Path(path)
    topics = topics if topics is not None else BagTopics()
    robot = _resolve_robot(path, robot)
    messages = _read_messages(path, topics)
    states = _joint_states(messages[topics.joint_states], robot, topics.joint_states)
    targets = _targets(messages[topics.target])
    commands = _commands(messages[topics.command], robot, topics.command)
    if not allow_nonfinite:
        _require_finite(path, topics, states, targets, commands)
    return _align(robot, states, targets, commands, split_gap_s, path)


# --- writing -------------------------------------------------------------------------------


def _check_writable(trajectory: Trajectory, first: Trajectory) -> None:
    if (trajectory.robot, trajectory.joint_names) != (first.robot, first.joint_names):
        raise BagFormatError("all trajectories in one bag must be of the same robot and joints")
    if len(trajectory) == 0 or np.any(np.diff(trajectory.t) <= 0.0) or trajectory.t[0] < 0.0:
        raise BagFormatError("trajectory times must start at >= 0 s and strictly increase")


def _joint_permutation(names: tuple[str, ...], joint_order: Sequence[str] | None) -> np.ndarray:
    if joint_order is None:
        return np.arange(len(names))
    if sorted(joint_order) != sorted(names):
        raise JointNameError(f"joint_order {list(joint_order)} is not a permutation of {names}")
    return np.array([names.index(name) for name in joint_order])


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


def _stamp(ns: int) -> object:
    sec, nanosec = divmod(ns, 10**9)
    return _TYPESTORE.types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec)


def _header(ns: int, frame_id: str) -> object:
    return _TYPESTORE.types["std_msgs/msg/Header"](stamp=_stamp(ns), frame_id=frame_id)


def _write_episode(writer, connections, topics, trajectory, start_ns, order, frame_id) -> None:
    types = _TYPESTORE.types
    names = [trajectory.joint_names[i] for i in order]
    layout = types["std_msgs/msg/MultiArrayLayout"](dim=[], data_offset=0)
    previous_target = None
    for i, t in enumerate(trajectory.t):
        stamp = start_ns + _ns(t)
        state = types[_JOINT_STATE](
            header=_header(stamp, ""),
            name=names,
            position=trajectory.q[i, order],
            velocity=trajectory.v[i, order],
            effort=np.zeros(0),
        )
        _write(writer, connections[topics.joint_states], stamp, state)
        target = trajectory.target[i]
        if previous_target is None or not np.array_equal(target, previous_target):
            point = types["geometry_msgs/msg/Point"](x=target[0], y=target[1], z=target[2])
            message = types[_POINT_STAMPED](header=_header(stamp, frame_id), point=point)
            _write(writer, connections[topics.target], stamp, message)
            previous_target = target
        command = types[_COMMAND](layout=layout, data=trajectory.tau[i].copy())
        _write(writer, connections[topics.command], stamp + COMMAND_LATENCY_NS, command)


def _write(writer: Writer, connection, stamp_ns: int, message) -> None:
    data = _TYPESTORE.serialize_cdr(message, connection.msgtype)
    writer.write(connection, stamp_ns, data)


# --- reading -------------------------------------------------------------------------------


def _resolve_robot(path: Path, robot: RobotDescription | str | None) -> RobotDescription:
    if not path.exists():
        raise BagNotFoundError(f"bag {path} does not exist")
    if isinstance(robot, RobotDescription):
        return robot
    if robot is None:
        robot = _custom_data(path).get(ROBOT_KEY)
        if robot is None:
            raise BagFormatError(
                f"{path}: no '{ROBOT_KEY}' in the bag's metadata; pass robot= to read_bag"
            )
    return load_robot_description(robot)


def _custom_data(path: Path) -> dict[str, str]:
    metadata = path / "metadata.yaml"
    if not metadata.is_file():
        raise BagFormatError(f"{path} is not a rosbag2 directory (no metadata.yaml)")
    try:
        info = yaml.safe_load(metadata.read_text())["rosbag2_bagfile_information"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise BagFormatError(f"{metadata}: not rosbag2 metadata: {exc}") from exc
    return info.get("custom_data") or {}


def _read_messages(path: Path, topics: BagTopics) -> dict[str, list[tuple[int, object]]]:
    """Deserialized messages per needed topic, as (bag time ns, message)."""
    try:
        with Reader(path) as reader:
            available = {c.topic: c.msgtype for c in reader.connections}
            for topic, msgtype in topics.types().items():
                if topic not in available:
                    raise MissingTopicError(
                        f"{path}: topic {topic} ({msgtype}) not recorded; "
                        f"the bag has {sorted(available)}"
                    )
                if available[topic] != msgtype:
                    raise BagFormatError(
                        f"{path}: topic {topic} is {available[topic]}, expected {msgtype}"
                    )
            wanted = [c for c in reader.connections if c.topic in topics.types()]
            messages: dict[str, list[tuple[int, object]]] = {t: [] for t in topics.types()}
            for connection, stamp, data in reader.messages(connections=wanted):
                message = _TYPESTORE.deserialize_cdr(data, connection.msgtype)
                messages[connection.topic].append((stamp, message))
    except ReaderError as exc:
        raise BagFormatError(f"{path}: cannot read the bag: {exc}") from exc
    return messages


def _stamp_ns(header) -> int:
    return int(header.stamp.sec) * 10**9 + int(header.stamp.nanosec)


def _joint_states(records, robot: RobotDescription, topic: str) -> dict[str, np.ndarray]:
    stamps, positions, velocities = [], [], []
    for _, message in records:
        index = {name: i for i, name in enumerate(message.name)}
        missing = [name for name in robot.joint_names if name not in index]
        if missing:
            raise JointNameError(
                f"{topic}: joints {missing} of {robot.name} missing; the message names "
                f"{list(message.name)}"
            )
        if len(message.position) != len(message.name) or len(message.velocity) != len(message.name):
            raise BagFormatError(
                f"{topic}: position and velocity must have one value per name "
                f"(names {len(message.name)}, position {len(message.position)}, "
                f"velocity {len(message.velocity)})"
            )
        take = [index[name] for name in robot.joint_names]
        stamps.append(_stamp_ns(message.header))
        positions.append(np.asarray(message.position)[take])
        velocities.append(np.asarray(message.velocity)[take])
    order = np.argsort(stamps, kind="stable")
    return {
        "stamp": np.asarray(stamps, dtype=np.int64)[order],
        "q": np.asarray(positions, dtype=float).reshape(-1, robot.dof)[order],
        "v": np.asarray(velocities, dtype=float).reshape(-1, robot.dof)[order],
    }


def _targets(records) -> dict[str, np.ndarray]:
    stamps = [_stamp_ns(m.header) for _, m in records]
    points = [(m.point.x, m.point.y, m.point.z) for _, m in records]
    order = np.argsort(stamps, kind="stable")
    return {
        "stamp": np.asarray(stamps, dtype=np.int64)[order],
        "target": np.asarray(points, dtype=float).reshape(-1, 3)[order],
    }


def _commands(records, robot: RobotDescription, topic: str) -> dict[str, np.ndarray]:
    for stamp, message in records:
        if len(message.data) != robot.dof:
            raise BagFormatError(
                f"{topic}: command at {stamp} ns has {len(message.data)} values, "
                f"{robot.name} has {robot.dof} joints"
            )
    order = np.argsort([stamp for stamp, _ in records], kind="stable")
    return {
        "stamp": np.asarray([stamp for stamp, _ in records], dtype=np.int64)[order],
        "tau": np.asarray([m.data for _, m in records], dtype=float).reshape(-1, robot.dof)[order],
    }


def _require_finite(path: Path, topics: BagTopics, states, targets, commands) -> None:
    for topic, arrays in (
        (topics.joint_states, (states["q"], states["v"])),
        (topics.target, (targets["target"],)),
        (topics.command, (commands["tau"],)),
    ):
        for array in arrays:
            bad = ~np.all(np.isfinite(array), axis=1)
            if bad.any():
                raise NonFiniteDataError(
                    f"{path}: {int(bad.sum())} messages on {topic} hold NaN/inf "
                    "(read with allow_nonfinite=True and curate() to drop them)"
                )


def _align(robot, states, targets, commands, split_gap_s, path) -> list[Trajectory]:
    stamps = states["stamp"]
    if len(stamps) == 0:
        raise BagFormatError(f"{path}: no joint states recorded")
    target_index = np.searchsorted(targets["stamp"], stamps, side="right") - 1
    command_index = np.searchsorted(commands["stamp"], stamps, side="left")
    next_stamp = np.append(stamps[1:], np.iinfo(np.int64).max)
    safe_command = np.minimum(command_index, len(commands["stamp"]) - 1)
    has_command = (command_index < len(commands["stamp"])) & (
        commands["stamp"][safe_command] < next_stamp
    )
    keep = (target_index >= 0) & has_command
    dynamics = PinocchioDynamics(robot)
    starts = np.flatnonzero(np.diff(stamps, prepend=stamps[0]) > split_gap_s * 1e9)
    trajectories = []
    for piece in np.split(np.arange(len(stamps)), starts):
        rows = piece[keep[piece]]
        if len(rows) == 0:
            continue
        q = states["q"][rows]
        trajectories.append(
            Trajectory(
                robot=robot.name,
                joint_names=robot.joint_names,
                t=(stamps[rows] - stamps[rows[0]]) * 1e-9,
                q=q,
                v=states["v"][rows],
                target=targets["target"][target_index[rows]],
                ee_position=_forward_kinematics(dynamics, q),
                tau=commands["tau"][command_index[rows]],
                info={
                    "source": str(path),
                    "start_ns": int(stamps[rows[0]]),
                    "dropped_unaligned": int(len(piece) - len(rows)),
                },
            )
        )
    return trajectories


def _forward_kinematics(dynamics: PinocchioDynamics, q: np.ndarray) -> np.ndarray:
    zero = np.zeros(q.shape[1])
    points = np.full((len(q), 3), np.nan)
    for i, row in enumerate(q):
        if np.all(np.isfinite(row)):
            points[i] = dynamics.terms(row, zero).ee_position
    return points
