"""Targets, the expert controller and expert rollouts."""

from __future__ import annotations

import numpy as np
import pytest

from ltc_control.data.trajectory import Trajectory
from ltc_control.errors import ConfigError
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.sim import (
    ArmSimulator,
    OperationalSpaceExpert,
    RolloutConfig,
    SimConfig,
    TargetSchedule,
    TargetSegment,
    TaskError,
    Workspace,
    collect_rollouts,
    load_rollout_plan,
    rollout_plan_from_dict,
)
from ltc_control.sim.task import label_target


@pytest.fixture(scope="module", params=["panda", "double_pendulum"])
def dynamics(request):
    return PinocchioDynamics(load_robot_description(request.param))


def _run(sim, expert, schedule, seconds, period=0.005):
    errors = []
    for _ in range(round(seconds / period)):
        state = sim.measure()
        target = schedule.target_at(state.time)
        sim.apply(expert.torque(state.q, state.v, target))
        sim.advance(period)
        errors.append(np.linalg.norm(sim.true_state().ee_position - target))
    return np.array(errors)


def test_random_schedule_is_seeded_and_mixes_target_kinds(dynamics):
    first = TargetSchedule.random(dynamics, 200.0, seed=4, unreachable_fraction=0.4)
    again = TargetSchedule.random(dynamics, 200.0, seed=4, unreachable_fraction=0.4)
    times = np.linspace(0.0, 200.0, 501)
    points = np.array([first.target_at(t) for t in times])
    np.testing.assert_array_equal(points, [again.target_at(t) for t in times])
    labels = {s.label for s in first.segments}
    assert labels == {"reachable", "below_table", "out_of_reach"}
    assert {s.kind for s in first.segments} == {"hold", "circle", "line"}
    assert first.segments[0].label == "reachable" and first.segments[0].kind == "hold"
    other = TargetSchedule.random(dynamics, 200.0, seed=5)
    assert not np.allclose(points, [other.target_at(t) for t in times])


def test_target_labels_mean_what_they_say(dynamics):
    robot = dynamics.robot
    workspace = Workspace.of(dynamics)
    schedule = TargetSchedule.random(dynamics, 300.0, seed=1, unreachable_fraction=0.5)
    for segment in schedule.segments:
        point = segment.position(segment.start)
        if workspace.plane is not None:
            assert workspace.plane.normal @ point == pytest.approx(workspace.plane.offset)
        if segment.label == "below_table":
            assert point[2] < robot.table.height
            assert np.all(np.abs(point[:2] - robot.table.center) <= np.array(robot.table.size) / 2)
        elif segment.label == "out_of_reach":
            assert np.linalg.norm(point - workspace.center) > workspace.max_reach
        else:
            assert point[2] > robot.table.height + robot.end_effector.contact_radius


def test_a_fixed_target_is_labelled_as_the_sampler_labels_it(dynamics):
    schedule = TargetSchedule.random(dynamics, 200.0, seed=2, unreachable_fraction=0.5)
    holds = [s for s in schedule.segments if s.kind == "hold"]
    assert {s.label for s in holds} == {"reachable", "below_table", "out_of_reach"}
    for segment in holds:
        label = label_target(dynamics, segment.origin)
        assert (label == "reachable") == (segment.label == "reachable")
    below = dynamics.robot.table
    point = np.array([*below.center, below.height - 0.05])
    assert label_target(dynamics, point) == "below_table"


def test_moving_targets_move_smoothly():
    zero = np.zeros(3)
    circle = TargetSegment(
        1.0, "circle", "reachable", zero, np.array([0.1, 0, 0]), np.array([0, 0.1, 0]), 4.0
    )
    schedule = TargetSchedule([TargetSegment(0.0, "hold", "reachable", zero, zero, zero), circle])
    np.testing.assert_allclose(schedule.target_at(0.5), zero)
    np.testing.assert_allclose(schedule.target_at(1.0), [0.1, 0, 0])
    np.testing.assert_allclose(schedule.target_at(2.0), [0, 0.1, 0], atol=1e-12)
    radii = [np.linalg.norm(schedule.target_at(t)) for t in np.linspace(1, 9, 50)]
    np.testing.assert_allclose(radii, 0.1)
    with pytest.raises(TaskError):
        TargetSchedule([circle, TargetSegment(0.5, "hold", "reachable", zero, zero, zero)])
    with pytest.raises(TaskError):
        TargetSchedule.constant([np.nan, 0, 0])


@pytest.mark.parametrize("kind", ["circle", "line"])
def test_target_velocity_is_the_derivative_of_its_position(kind):
    segment = TargetSegment(
        1.0, kind, "reachable", np.array([0.4, 0.0, 0.5]), np.array([0.1, 0.0, 0.05]),
        np.array([0.0, 0.08, 0.0]), 2.5,
    )  # fmt: skip
    schedule = TargetSchedule(
        [TargetSegment(0.0, "hold", "reachable", *[np.zeros(3)] * 3), segment]
    )
    np.testing.assert_array_equal(schedule.velocity_at(0.5), np.zeros(3))
    for t in (1.3, 2.0, 2.9):
        numeric = (schedule.target_at(t + 1e-6) - schedule.target_at(t - 1e-6)) / 2e-6
        np.testing.assert_allclose(schedule.velocity_at(t), numeric, atol=1e-6)


def test_the_targets_velocity_fed_forward_shrinks_the_expert_s_tracking_lag():
    """The privilege the policies do not get: told the velocity of a circling target, the
    Panda's expert follows it with a fraction of the lag of feedback alone (kd / kp behind)."""
    dynamics = PinocchioDynamics(load_robot_description("panda"))
    start = ArmSimulator(dynamics.robot, SimConfig()).true_state()
    circle = TargetSegment(
        0.0, "circle", "reachable", start.ee_position - [0.1, 0.0, 0.0],
        np.array([0.1, 0.0, 0.0]), np.array([0.0, 0.1, 0.0]), 2.0,
    )  # fmt: skip
    schedule = TargetSchedule([circle])
    lag = {}
    for told in (False, True):
        sim, expert = ArmSimulator(dynamics.robot, SimConfig()), OperationalSpaceExpert(dynamics)
        errors = []
        for _ in range(400):  # 2 s at 200 Hz: once round
            state = sim.measure()
            velocity = schedule.velocity_at(state.time) if told else None
            sim.apply(expert.torque(state.q, state.v, schedule.target_at(state.time), velocity))
            sim.advance(0.005)
            errors.append(
                np.linalg.norm(sim.true_state().ee_position - schedule.target_at(sim.time))
            )
        lag[told] = np.sqrt(np.mean(np.square(errors[200:])))  # the second half-turn
    assert lag[False] > 0.02  # 0.31 m/s * kd / kp = 4 cm behind
    assert lag[True] < 0.5 * lag[False]


def test_tracking_schedule_moves_away_from_the_held_point(dynamics):
    """The moving-target benchmark's task: no jump between the hold and the motion, so the
    segment scores tracking, not a second approach."""
    for seed in range(6):
        schedule = TargetSchedule.tracking(dynamics, seed, hold_s=1.0)
        hold, moving = schedule.segments
        assert (hold.kind, moving.kind) == ("hold", moving.kind) and moving.kind != "hold"
        assert moving.start == 1.0 and {hold.label, moving.label} == {"reachable"}
        np.testing.assert_allclose(schedule.target_at(1.0), schedule.target_at(0.999), atol=1e-9)
        assert np.linalg.norm(schedule.velocity_at(1.5)) > 0.0
        assert label_target(dynamics, schedule.target_at(0.0)) == "reachable"
    again = TargetSchedule.tracking(dynamics, 3)
    np.testing.assert_array_equal(
        again.target_at(2.0), TargetSchedule.tracking(dynamics, 3).target_at(2.0)
    )
    with pytest.raises(TaskError):
        TargetSchedule.tracking(dynamics, 0, hold_s=0.0)


def test_planar_arm_workspace_is_its_plane():
    pendulum = Workspace.of(PinocchioDynamics(load_robot_description("double_pendulum")))
    assert pendulum.plane is not None
    assert abs(pendulum.plane.normal[0]) == pytest.approx(1.0)  # joint axes along x
    projected = pendulum.project(np.array([0.5, 0.1, 0.2]))
    np.testing.assert_allclose(projected[1:], [0.1, 0.2])
    assert pendulum.plane.normal @ projected == pytest.approx(pendulum.plane.offset)
    assert Workspace.of(PinocchioDynamics(load_robot_description("panda"))).plane is None


def test_expert_converges_to_reachable_targets(dynamics):
    robot = dynamics.robot
    expert = OperationalSpaceExpert(dynamics)
    for seed in (10, 11):
        target = TargetSchedule.random(dynamics, 1.0, seed=seed).target_at(0.0)
        sim = ArmSimulator(robot, SimConfig(mass_spread=0.1, seed=seed))
        errors = _run(sim, expert, TargetSchedule.constant(target), 4.0)
        assert errors[0] > 0.05, "target too close to the start to show convergence"
        # ±10 % link masses against the nominal model: a small steady-state offset remains.
        assert errors[-1] < 0.02
        assert np.linalg.norm(sim.true_state().v) < 0.1


def test_expert_reaches_behind_the_base_where_the_straight_line_stalls():
    # The Cartesian straight line from home runs the arm through its base: the law alone
    # (no goal pose) stopped 15 cm short here; following the IK goal pose's path reaches it.
    dynamics = PinocchioDynamics(load_robot_description("panda"))
    behind = np.array([-0.6, 0.1, 0.5])
    errors = _run(
        ArmSimulator(dynamics.robot),
        OperationalSpaceExpert(dynamics),
        TargetSchedule.constant(behind),
        3.0,
    )
    assert errors[-1] < 0.01


def test_pendulum_expert_follows_the_goal_pose_until_near_the_target():
    # The goal pose folds the elbow from 0.5 to 1.6 rad for a target 14 cm away. Acting on
    # the Cartesian error within the Panda's 0.3 m blend (no joint-space pull) the arm was
    # still 3 cm short after 2.5 s; following the goal pose's joint path it gets there.
    dynamics = PinocchioDynamics(load_robot_description("double_pendulum"))
    sim = ArmSimulator(dynamics.robot)
    sim.reset(np.array([0.27, 0.5]), np.zeros(2))
    target = np.array([0.029, 0.199, 0.121])
    errors = _run(sim, OperationalSpaceExpert(dynamics), TargetSchedule.constant(target), 2.5)
    assert errors[0] > 0.1
    assert errors[-1] < 0.01


def test_expert_projects_targets_onto_the_pendulum_plane():
    dynamics = PinocchioDynamics(load_robot_description("double_pendulum"))
    sim = ArmSimulator(dynamics.robot)
    target = np.array([0.4, -0.2, 0.1])  # 0.37 m off the arm's plane
    _run(sim, OperationalSpaceExpert(dynamics), TargetSchedule.constant(target), 3.0)
    np.testing.assert_allclose(sim.true_state().ee_position[1:], target[1:], atol=0.01)


def test_expert_is_sane_for_unreachable_targets(dynamics):
    robot = dynamics.robot
    expert = OperationalSpaceExpert(dynamics)
    workspace = Workspace.of(dynamics)
    far = workspace.center + 3.0 * workspace.max_reach * np.array([0.0, 0.6, 0.8])
    torque = expert.torque(robot.home, np.zeros(robot.dof), far)
    assert np.all(np.abs(torque) <= robot.limits.effort)
    sim = ArmSimulator(robot)
    _run(sim, expert, TargetSchedule.constant(far), 4.0)
    state = sim.true_state()
    assert np.all(np.isfinite(state.q)) and np.linalg.norm(state.v) < 0.5
    stretched = np.linalg.norm(state.ee_position - workspace.center)
    home_reach = np.linalg.norm(dynamics.terms(robot.home, np.zeros(robot.dof)).ee_position - far)
    assert np.linalg.norm(state.ee_position - far) < home_reach
    assert stretched > 0.5 * workspace.max_reach


def test_expert_stops_on_the_table_for_targets_below_it():
    dynamics = PinocchioDynamics(load_robot_description("panda"))
    sim = ArmSimulator(dynamics.robot)
    below = np.array([0.5, 0.0, dynamics.robot.table.height - 0.05])
    _run(sim, OperationalSpaceExpert(dynamics), TargetSchedule.constant(below), 3.0)
    state = sim.true_state()
    top = dynamics.robot.table.height + dynamics.robot.end_effector.contact_radius
    assert state.ee_position[2] == pytest.approx(top, abs=0.005)
    assert 1.0 < state.contact_normal_force < 200.0
    np.testing.assert_allclose(state.ee_position[:2], below[:2], atol=0.03)


def test_expert_rejects_bad_targets(dynamics):
    expert = OperationalSpaceExpert(dynamics)
    with pytest.raises(TaskError):
        expert.torque(dynamics.robot.home, np.zeros(dynamics.robot.dof), [0.0, np.nan, 0.0])


def test_rollouts_have_the_documented_format(dynamics):
    robot = dynamics.robot
    config = RolloutConfig(q_noise_std=0.001, v_noise_std=0.01)
    runs = collect_rollouts(robot, 2, 2.0, rate_hz=100.0, jitter=0.2, seed=3, config=config)
    again = collect_rollouts(robot, 2, 2.0, rate_hz=100.0, jitter=0.2, seed=3, config=config)
    assert len(runs) == 2 and runs[0].equals(again[0]) and runs[1].equals(again[1])
    assert not runs[0].equals(runs[1])
    for run in runs:
        assert isinstance(run, Trajectory) and run.joint_names == robot.joint_names
        n = len(run)
        assert 160 < n < 240
        assert run.q.shape == (n, robot.dof) and run.target.shape == (n, 3)
        assert run.dt[0] == 0.0 and np.all(run.dt[1:] >= 0.008 - 1e-9)
        assert np.all(run.dt[1:] <= 0.012 + 1e-9) and run.dt[1:].std() > 1e-4
        assert np.all(np.abs(run.tau) <= robot.limits.effort + 1e-12)
        kinematics = [dynamics.terms(q, v).ee_position for q, v in zip(run.q, run.v, strict=True)]
        np.testing.assert_allclose(run.ee_position, kinematics, atol=1e-12)
        assert np.ptp(run.info["mass_scale"]) > 0.0
        assert run.info["target_velocity"].shape == (n, 3)  # the expert's privilege, recorded


def test_rollout_plan_file_loads_and_rejects_bad_keys(tmp_path):
    plan = load_rollout_plan()  # config/rollouts.yaml
    assert plan.episodes >= 1 and plan.config.mass_spread == pytest.approx(0.1)
    small = rollout_plan_from_dict(
        {"episodes": 1, "duration_s": 0.5, "rate_hz": [50.0, 60.0], "jitter": 0.1, "seed": 1}
    )
    (run,) = small.collect(load_robot_description("double_pendulum"))
    assert 50.0 <= run.info["rate_hz"] <= 60.0
    assert len(run) == pytest.approx(0.5 * run.info["rate_hz"] + 1, abs=4)
    base = {"episodes": 1, "duration_s": 1.0, "rate_hz": 100.0, "jitter": 0.0, "seed": 0}
    bad = [
        {**base, "episodes": "many"},
        {**base, "rate_hz": [100.0, 50.0]},
        {**base, "typo": 1},
        {**base, "randomization": {"unreachable_fraction": 2.0}},
        {key: value for key, value in base.items() if key != "seed"},
    ]
    for data in bad:
        with pytest.raises(ConfigError):
            rollout_plan_from_dict(data)
    broken = tmp_path / "plan.yaml"
    broken.write_text("episodes: [")
    with pytest.raises(ConfigError, match=r"plan\.yaml"):
        load_rollout_plan(broken)


def test_driver_moves_the_arm_while_the_expert_labels():
    robot = load_robot_description("double_pendulum")
    resets = []

    def make_driver():
        resets.append(1)
        return lambda t, q, v, target: np.zeros(robot.dof)  # a limp "learner"

    config = RolloutConfig(mass_spread=0.0, initial_speed=0.0)
    driven = collect_rollouts(robot, 2, 1.0, 100.0, seed=5, config=config, make_driver=make_driver)
    expert_run = collect_rollouts(robot, 2, 1.0, 100.0, seed=5, config=config)
    assert len(resets) == 2
    for run, reference in zip(driven, expert_run, strict=True):
        np.testing.assert_array_equal(run.info["applied_tau"], 0.0)
        np.testing.assert_allclose(run.q[0], reference.q[0])
        assert np.abs(run.q[-1] - reference.q[-1]).max() > 0.1  # unpowered, it falls
        dynamics = PinocchioDynamics(robot)
        expert = OperationalSpaceExpert(dynamics)  # remembers its goal pose: replay the episode
        labels = [expert.torque(*sample) for sample in zip(run.q, run.v, run.target, strict=True)]
        np.testing.assert_allclose(run.tau, labels)
