"""rosbag2 <-> Trajectory: round trips in both storages, matching by name, alignment, errors."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from ltc_control.data import (
    BagFormatError,
    BagNotFoundError,
    BagTopics,
    JointNameError,
    MissingTopicError,
    NonFiniteDataError,
    read_bag,
    write_bag,
)
from ltc_control.data.demo import make_demo_bag
from ltc_control.errors import LtcControlError
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.sim import RolloutConfig, collect_rollouts

TYPES = get_typestore(Stores.ROS2_KILTED)


@pytest.fixture(scope="module")
def rollouts():
    robot = load_robot_description("double_pendulum")
    config = RolloutConfig(q_noise_std=0.001, v_noise_std=0.01)
    return collect_rollouts(robot, 2, 1.5, rate_hz=100.0, jitter=0.3, seed=2, config=config)


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_round_trip_is_exact(rollouts, tmp_path, storage):
    path = write_bag(rollouts, tmp_path / "bag", storage=storage, joint_order=("joint2", "joint1"))
    suffix = {"mcap": ".mcap", "sqlite3": ".db3"}[storage]
    assert any(p.suffix == suffix for p in path.iterdir())
    back = read_bag(path)
    assert len(back) == len(rollouts)
    for original, restored in zip(rollouts, back, strict=True):
        assert restored.equals(original, atol=1e-9)
        assert restored.info["dropped_unaligned"] == 0


def test_demo_bag_reads_back_with_forward_kinematics(tmp_path):
    path = make_demo_bag(tmp_path / "demo", duration_s=1.0, storage="sqlite3")
    trajectories = read_bag(path)  # robot name comes from the bag's metadata
    assert [len(t) for t in trajectories] == pytest.approx([100, 100], abs=12)
    robot = load_robot_description("double_pendulum")
    dynamics = PinocchioDynamics(robot)
    first = trajectories[0]
    assert first.robot == "double_pendulum" and first.joint_names == robot.joint_names
    expected = [dynamics.terms(q, np.zeros(2)).ee_position for q in first.q]
    np.testing.assert_allclose(first.ee_position, expected, atol=1e-12)
    assert first.t[0] == 0.0 and np.all(first.dt[1:] > 0.0)


def _write_manual_bag(path, states, targets, commands):
    """A bag written directly with rosbags: states (stamp_ns, names, q, v), targets (stamp_ns,
    xyz), commands (bag time ns, data)."""
    writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    topics = BagTopics()
    conns = {t: writer.add_connection(t, m, typestore=TYPES) for t, m in topics.types().items()}
    time, header, point = (
        TYPES.types["builtin_interfaces/msg/Time"],
        TYPES.types["std_msgs/msg/Header"],
        TYPES.types["geometry_msgs/msg/Point"],
    )

    def stamp(ns):
        return header(stamp=time(sec=ns // 10**9, nanosec=ns % 10**9), frame_id="world")

    def put(topic, ns, message):
        writer.write(conns[topic], ns, TYPES.serialize_cdr(message, conns[topic].msgtype))

    for ns, names, q, v in states:
        message = TYPES.types["sensor_msgs/msg/JointState"](
            header=stamp(ns),
            name=names,
            position=np.array(q, float),
            velocity=np.array(v, float),
            effort=np.zeros(0),
        )
        put(topics.joint_states, ns, message)
    for ns, xyz in targets:
        message = TYPES.types["geometry_msgs/msg/PointStamped"](
            header=stamp(ns), point=point(x=xyz[0], y=xyz[1], z=xyz[2])
        )
        put(topics.target, ns, message)
    layout = TYPES.types["std_msgs/msg/MultiArrayLayout"](dim=[], data_offset=0)
    for ns, data in commands:
        message = TYPES.types["std_msgs/msg/Float64MultiArray"](
            layout=layout, data=np.array(data, float)
        )
        put(topics.command, ns, message)
    writer.close()
    return path


MS = 1_000_000


def test_joints_matched_by_name_and_commands_aligned_after_states(tmp_path):
    names = ["gripper", "joint2", "joint1"]  # extra joint, shuffled order
    states = [
        (i * 10 * MS, names, [9.0, 0.2 + i, 0.1 + i], [9.0, 2.0 + i, 1.0 + i]) for i in range(5)
    ]
    targets = [(0, (0.03, 0.1, 0.2)), (25 * MS, (0.03, -0.1, 0.1))]
    # Command i arrives 1 ms after state i, except state 3 which gets none.
    commands = [((i * 10 + 1) * MS, [float(i), -float(i)]) for i in (0, 1, 2, 4)]
    path = _write_manual_bag(tmp_path / "manual", states, targets, commands)
    (trajectory,) = read_bag(path, robot="double_pendulum")
    np.testing.assert_allclose(trajectory.t, [0.0, 0.01, 0.02, 0.04])
    np.testing.assert_allclose(trajectory.q[:, 0], [0.1, 1.1, 2.1, 4.1])  # joint1
    np.testing.assert_allclose(trajectory.v[:, 1], [2.0, 3.0, 4.0, 6.0])  # joint2
    np.testing.assert_allclose(trajectory.tau[:, 0], [0.0, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(trajectory.target[:, 1], [0.1, 0.1, 0.1, -0.1])
    assert trajectory.info["dropped_unaligned"] == 1


def test_gaps_split_episodes(rollouts, tmp_path):
    path = write_bag(rollouts, tmp_path / "bag")
    assert len(read_bag(path, split_gap_s=0.5)) == 2
    assert len(read_bag(path, split_gap_s=5.0)) == 1


def test_missing_bag_and_non_bag_directories(tmp_path):
    with pytest.raises(BagNotFoundError):
        read_bag(tmp_path / "nowhere", robot="panda")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BagFormatError, match="metadata"):
        read_bag(tmp_path / "empty")
    assert issubclass(BagNotFoundError, LtcControlError)


def test_wrong_topics_and_unknown_joints(rollouts, tmp_path):
    path = write_bag(rollouts, tmp_path / "bag")
    with pytest.raises(MissingTopicError, match="/goal"):
        read_bag(path, topics=BagTopics(target="/goal"))
    with pytest.raises(BagFormatError, match="expected"):
        read_bag(path, topics=BagTopics(target="/joint_states"))
    with pytest.raises(JointNameError, match="panda_joint1"):
        read_bag(path, robot="panda")
    with pytest.raises(JointNameError):
        write_bag(rollouts, tmp_path / "other", joint_order=("joint1", "elbow"))
    with pytest.raises(BagFormatError, match="exists"):
        write_bag(rollouts, path)


def test_nonfinite_values_raise_unless_allowed(rollouts, tmp_path):
    broken = rollouts[0].slice(slice(None))
    broken.q = broken.q.copy()
    broken.q[[5, 9], 1] = np.nan
    path = write_bag([broken], tmp_path / "bag")
    with pytest.raises(NonFiniteDataError, match="2 messages on /joint_states"):
        read_bag(path)
    (kept,) = read_bag(path, allow_nonfinite=True)
    assert np.isnan(kept.q[[5, 9], 1]).all() and np.isnan(kept.ee_position[[5, 9]]).all()
