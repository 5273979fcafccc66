"""The launch file's nodes in one process, over real DDS topics: data flows end to end, sim time
is used, the watchdog brakes when the policy dies, and bad parameters are refused."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ltc_control.msg import SafetyStatus
from ltc_control.resources import share_dir
from ltc_control.robots import load_robot_description

pytestmark = pytest.mark.ros
SIM_LAUNCH = share_dir() / "launch" / "sim.launch.xml"


def bring_up(context: object, model: Path) -> tuple[dict[str, object], object]:
    from ltc_control.nodes.bringup import build_nodes
    from ltc_control.nodes.recorder import RecorderNode
    from ltc_control.nodes.spin import make_executor

    bringup = build_nodes(SIM_LAUNCH, {"robot": "panda", "model_file": str(model)}, context)
    recorder = RecorderNode(
        context=context,
        cli_args=["--ros-args", "-r", "commands:=/effort_controller/commands"],
        use_global_arguments=False,
    )
    nodes = {node.get_name(): node for node in [*bringup.nodes, recorder]}
    executor = make_executor(context)
    for node in nodes.values():
        executor.add_node(node)
    return nodes, executor


def test_data_flows_end_to_end_on_sim_time(
    ros_context, untrained_panda_policy: Path, spin_until
) -> None:
    from diagnostic_msgs.msg import DiagnosticArray

    nodes, executor = bring_up(ros_context, untrained_panda_policy)
    sim, policy, recorder = nodes["sim"], nodes["policy"], nodes["recorder"]
    reports: dict[str, dict[str, str]] = {}

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for status in msg.status:
            reports[status.name.split(":")[0]] = {kv.key: kv.value for kv in status.values}

    recorder.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 50)
    assert spin_until(executor, lambda: sim.sim.time >= 1.2, timeout=60.0), "sim did not advance"
    assert spin_until(executor, lambda: len(reports) == 3, timeout=10.0), reports.keys()
    # Every node reports its compute time and deadline overruns on /diagnostics.
    for name in ("sim", "policy", "safety_filter"):
        assert {"deadline_overruns", "compute_time_p99_us"} <= set(reports[name]), name
    # The 1 Hz report may predate the last steps: wait for one that counts them.
    assert spin_until(executor, lambda: int(reports["policy"]["steps"]) >= 100, timeout=5.0)
    recording = recorder.recording
    # Lockstep: the sim advanced because safe commands came back, not on timeouts.
    assert sim.missed_commands <= 3 and sim.rejected_commands == 0
    assert recording.commands_received >= 1100  # one command per 1 ms joint state
    assert len(recording.status_time) >= 110  # status every 10th cycle
    # Braking until the policy's first nominal command arrives, then filtering throughout.
    first = recording.mode.index(SafetyStatus.MODE_FILTERED)
    # (How many braking cycles come first depends on start-up order and load: seen 1 to 64.)
    assert first < 200 and set(recording.mode[first:]) == {SafetyStatus.MODE_FILTERED}
    # The policy runs on the simulator's clock: its now() is the sim time, not wall time.
    policy_now = policy.get_clock().now().nanoseconds * 1e-9
    assert abs(policy_now - sim.sim.time) < 0.05
    assert policy.controller.steps >= 90
    effort = load_robot_description("panda").limits.effort
    assert np.all(np.abs(np.array(recording.safe)) <= effort + 1e-9)
    for node in nodes.values():
        node.destroy_node()


def test_in_one_process_the_robot_gets_its_command_before_the_policy_steps_or_status_goes(
    ros_context, untrained_panda_policy: Path, spin_until
) -> None:
    """The policy's step (every 10th state) and the filter's status must not delay the 1 kHz
    loop's answer: the filter's subscription is served first (listed before the policy), and
    the step and the status wait until the command is delivered (bench/e2e.py)."""
    from ltc_control.nodes.fields import header_stamp, to_seconds

    nodes, executor = bring_up(ros_context, untrained_panda_policy)
    safety, policy, sim = nodes["safety_filter"], nodes["policy"], nodes["sim"]
    order: list[tuple[str, float]] = []

    def recorded(name: str, callback, stamp_of):
        def wrapper(*args):
            order.append((name, stamp_of(*args)))
            return callback(*args)

        return wrapper

    def stamp_of_message(msg) -> float:  # the policy subscribes raw (serialised bytes)
        return header_stamp(msg) if isinstance(msg, bytes) else to_seconds(msg.header.stamp)

    def last_state_stamp(*_) -> float:
        return to_seconds(sim._joint_msg.header.stamp)

    def filtered_stamp(*_) -> float:
        return next(stamp for name, stamp in reversed(order) if name == "filter")

    for node, name in ((safety, "filter"), (policy, "policy")):
        subscription = next(s for s in node.subscriptions if s.topic_name == "/joint_states")
        subscription.callback = recorded(name, subscription.callback, stamp_of_message)
    commands = next(s for s in sim.subscriptions if s.topic_name.endswith("/commands"))
    commands.callback = recorded("command", commands.callback, last_state_stamp)
    policy._on_joint_state = recorded("step", policy._on_joint_state, stamp_of_message)
    safety._publish_status = recorded("status", safety._publish_status, filtered_stamp)
    assert spin_until(executor, lambda: sim.sim.time >= 0.3 and policy.controller.steps > 5, 30.0)
    first_seen: dict[float, str] = {}
    for name, stamp in order:
        if name in ("filter", "policy"):  # the two subscribers of each joint state
            first_seen.setdefault(stamp, name)
    assert len(first_seen) >= 250 and set(first_seen.values()) == {"filter"}
    position = {event: k for k, event in enumerate(order)}
    steps = [stamp for name, stamp in order if name == "step"]
    statuses = [stamp for name, stamp in order if name == "status"]
    assert len(steps) > 5 and statuses
    for stamp in steps + statuses:
        assert ("command", stamp) in position, f"no command answered the state at {stamp}"
    assert all(position[("command", t)] < position[("step", t)] for t in steps)
    assert all(position[("command", t)] < position[("status", t)] for t in statuses)
    for node in nodes.values():
        node.destroy_node()


def test_watchdog_brakes_when_the_policy_process_dies(
    ros_context, untrained_panda_policy: Path, spin_until, tmp_path: Path
) -> None:
    """The policy runs in its own process (as under ros2 launch composed:=false) and is killed
    mid-run."""
    from ltc_control.nodes.bringup import build_nodes, ros_arguments
    from ltc_control.nodes.launch_xml import read_launch_file
    from ltc_control.nodes.recorder import RecorderNode
    from ltc_control.nodes.spin import make_executor

    arguments = {"robot": "panda", "model_file": str(untrained_panda_policy)}
    launch = read_launch_file(SIM_LAUNCH, {**arguments, "composed": "false"})
    policy_entry = next(n for n in launch.nodes if n.executable == "policy_node")
    policy_process = subprocess.Popen(
        [str(Path(sys.prefix) / "bin" / "policy_node"), *ros_arguments(policy_entry, tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        local = [
            n
            for n in build_nodes(SIM_LAUNCH, arguments, ros_context).nodes
            if n.get_name() != "policy"
        ]
        recorder = RecorderNode(
            context=ros_context,
            cli_args=["--ros-args", "-r", "commands:=/effort_controller/commands"],
            use_global_arguments=False,
        )
        executor = make_executor(ros_context)
        for node in [*local, recorder]:
            executor.add_node(node)
        sim = next(n for n in local if n.get_name() == "sim")
        modes = recorder.recording.mode
        assert spin_until(executor, lambda: modes.count(SafetyStatus.MODE_FILTERED) >= 50, 60.0), (
            "the policy process never drove the loop"
        )
        policy_process.send_signal(signal.SIGKILL)
        policy_process.wait(timeout=10)
        seen = len(modes)
        assert spin_until(executor, lambda: SafetyStatus.MODE_WATCHDOG in modes[seen:], 30.0)
        # Braking commands keep the lockstep sim moving and stay in the torque box.
        resumed = sim.sim.time
        assert spin_until(executor, lambda: sim.sim.time >= resumed + 0.5, 60.0)
        effort = load_robot_description("panda").limits.effort
        assert np.all(np.abs(np.array(recorder.recording.safe)) <= effort + 1e-9)
        safety = next(n for n in local if n.get_name() == "safety_filter")
        assert safety.loop.watchdog.fired >= 1
        for node in [*local, recorder]:
            node.destroy_node()
    finally:
        policy_process.kill()


@pytest.mark.parametrize(
    ("factory", "argument", "message"),
    [
        ("policy", "max_dt:=-1.0", "max_dt"),
        ("policy", "control_rate_hz:=0.0", "control_rate_hz"),
        ("safety_filter", "filter.force_max:=-5.0", "force_max"),
        ("safety_filter", "watchdog_timeout:=100.0", "watchdog_timeout"),
    ],
)
def test_bad_parameters_are_refused_at_start(
    ros_context, untrained_panda_policy: Path, factory: str, argument: str, message: str
) -> None:
    from ltc_control.nodes.bringup import node_factories

    node_class = node_factories()[f"{factory}_node"]
    args = ["--ros-args", "-p", argument, "-p", f"model_file:={untrained_panda_policy}"]
    with pytest.raises(Exception, match=message):
        node_class(context=ros_context, cli_args=args, use_global_arguments=False)


def test_unknown_parameter_keys_are_named_in_a_warning(
    ros_context, untrained_panda_policy: Path, tmp_path: Path, capfd
) -> None:
    """A typo in a parameter file would leave the default in force: it is named, with a hint."""
    import yaml

    from ltc_control.nodes.bringup import node_factories

    params = tmp_path / "typo.yaml"
    node_params = {"watchdog_timout": 0.02, "filter.force_maxx": 10.0, "robot": "panda"}
    params.write_text(yaml.safe_dump({"safety_filter": {"ros__parameters": node_params}}))
    node_class = node_factories()["safety_filter_node"]
    args = ["--ros-args", "--params-file", str(params)]
    node = node_class(context=ros_context, cli_args=args, use_global_arguments=False)
    assert node.unknown_parameters == ["filter.force_maxx", "watchdog_timout"]
    log = capfd.readouterr().err
    assert (
        "'watchdog_timout' is not a parameter of this node (did you mean 'watchdog_timeout'?)"
        in log
    )
    assert "did you mean 'filter.force_max'" in log
    node.destroy_node()


def test_the_reset_service_forgets_the_hidden_state_and_the_task_laws_goal(
    ros_context, spin_until
) -> None:
    """The shipped Panda policy (task-space action): `~/reset` starts a new episode, for the
    network and for the law that turns its action into torque (its goal pose)."""
    from std_srvs.srv import Trigger

    from ltc_control.resources import shipped_policy

    nodes, executor = bring_up(ros_context, shipped_policy("panda"))
    sim, policy, recorder = nodes["sim"], nodes["policy"], nodes["recorder"]
    assert spin_until(executor, lambda: policy.controller.steps >= 20, timeout=60.0)
    assert policy.task_law._goal_target is not None  # the law aims at the demo's target
    law_resets = []
    forget_goal = policy.task_law.reset
    policy.task_law.reset = lambda: (law_resets.append(sim.sim.time), forget_goal())
    client = recorder.create_client(Trigger, "/policy/reset")
    assert spin_until(executor, client.service_is_ready, timeout=10.0)
    future = client.call_async(Trigger.Request())
    assert spin_until(executor, future.done, timeout=10.0)
    assert future.result().success
    assert len(law_resets) == 1
    assert policy.controller.steps < 20  # counted from the reset again
    for node in nodes.values():
        node.destroy_node()
