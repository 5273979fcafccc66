"""Deferred work on the executor (AfterQueuedEvents): order, errors, no executor."""

from __future__ import annotations

import pytest


@pytest.fixture
def node_and_executor(ros_context):
    import rclpy

    from ltc_control.nodes.spin import make_executor

    node = rclpy.create_node("deferring", context=ros_context)
    executor = make_executor(ros_context)
    executor.add_node(node)
    yield node, executor
    node.destroy_node()


def test_deferred_work_runs_after_the_events_already_queued(node_and_executor, spin_until) -> None:
    """Like the filter's status: its command to the robot is queued first, then the status
    waits for it (the other order, work run at once, would delay the command)."""
    from std_msgs.msg import Empty

    from ltc_control.nodes.spin import AfterQueuedEvents

    node, executor = node_and_executor
    order: list[str] = []
    later = AfterQueuedEvents(node, max_wait_s=1.0)
    answer = node.create_publisher(Empty, "answer", 10)
    trigger = node.create_publisher(Empty, "trigger", 10)

    def answer_then_defer(_: Empty) -> None:
        answer.publish(Empty())
        later.submit(lambda: order.append("deferred work"))
        order.append("callback")

    node.create_subscription(Empty, "trigger", answer_then_defer, 10)
    node.create_subscription(Empty, "answer", lambda _: order.append("answer"), 10)
    for publisher in (answer, trigger):
        assert spin_until(executor, lambda p=publisher: p.get_subscription_count() == 1, 5.0)
    for _ in range(3):
        trigger.publish(Empty())
        assert spin_until(executor, lambda: len(order) == 3, 5.0)
        assert order == ["callback", "answer", "deferred work"]
        order.clear()


def test_an_error_in_deferred_work_is_raised_by_the_next_submit(
    node_and_executor, spin_until
) -> None:
    """The wheels' EventsExecutor segfaults on an exception inside a task: it must not get one."""
    from ltc_control.nodes.spin import AfterQueuedEvents

    node, executor = node_and_executor
    later = AfterQueuedEvents(node, max_wait_s=1.0)
    ran: list[str] = []

    def broken() -> None:
        ran.append("broken")
        raise ValueError("step failed")

    later.submit(broken)
    assert spin_until(executor, lambda: ran == ["broken"], 5.0)
    executor.spin_once(timeout_sec=0.01)  # the process is still alive and spinning
    with pytest.raises(ValueError, match="step failed"):
        later.submit(lambda: ran.append("next"))
    later.submit(lambda: ran.append("after"))  # raised once, then work runs again
    assert spin_until(executor, lambda: ran[-1] == "after", 5.0)
    assert "next" not in ran


def test_without_an_executor_work_runs_at_once(ros_context) -> None:
    import rclpy

    from ltc_control.nodes.spin import AfterQueuedEvents

    node = rclpy.create_node("alone", context=ros_context)
    ran: list[int] = []
    AfterQueuedEvents(node, max_wait_s=1.0).submit(lambda: ran.append(1))
    assert ran == [1]
    node.destroy_node()


def test_waiting_work_is_replaced_by_newer_work_or_cancelled(node_and_executor, spin_until) -> None:
    """One slot: a flood of input cannot pile up tasks; the freshest work runs."""
    from ltc_control.nodes.spin import AfterQueuedEvents

    node, executor = node_and_executor
    later = AfterQueuedEvents(node, max_wait_s=1.0)
    ran: list[int] = []
    for k in range(1000):
        later.submit(lambda k=k: ran.append(k))
    assert spin_until(executor, lambda: ran == [999], 5.0)
    later.submit(lambda: ran.append(-1))
    later.cancel()
    for _ in range(5):
        executor.spin_once(timeout_sec=0.01)
    assert ran == [999]
    later.submit(lambda: ran.append(1000))  # a new task after a cancelled one
    assert spin_until(executor, lambda: ran == [999, 1000], 5.0)


def test_work_waiting_longer_than_max_wait_runs_at_once(node_and_executor, spin_until) -> None:
    """A flood keeps the executor's queue from emptying, and tasks run only when it empties:
    past `max_wait_s` the next submission runs at once instead of waiting forever."""
    import time

    from ltc_control.nodes.spin import AfterQueuedEvents

    node, executor = node_and_executor
    later = AfterQueuedEvents(node, max_wait_s=0.5)  # a loaded CI machine may stall ~0.1 s
    ran: list[str] = []
    later.submit(lambda: ran.append("starved"))  # queued; the executor is not spun
    later.submit(lambda: ran.append("replaced"))  # within max_wait: replaces it
    assert ran == []
    time.sleep(0.6)
    later.submit(lambda: ran.append("at once"))
    assert ran == ["at once"]
    for _ in range(5):
        executor.spin_once(timeout_sec=0.01)  # the starved task finds nothing left to do
    assert ran == ["at once"]
    later.submit(lambda: ran.append("deferred again"))  # and deferral resumes
    assert ran == ["at once"]
    assert spin_until(executor, lambda: ran == ["at once", "deferred again"], 5.0)


INIT_AND_PRINT_PROFILE = """
import os
from rclpy.context import Context
from ltc_control.nodes.spin import DDS_PROFILE_ENV, init_ros
context = Context()
init_ros(context)
print(os.environ.get(DDS_PROFILE_ENV, ""))
context.shutdown()
"""


@pytest.mark.parametrize("own_profile", [False, True])
def test_processes_start_with_the_packaged_dds_profile_unless_the_user_has_one(
    tmp_path, own_profile: bool
) -> None:
    """config/fastdds.xml (non-blocking UDP sends; test/hosts shows why) for every participant
    of the process, a user's own FASTDDS_DEFAULT_PROFILES_FILE left alone."""
    import os
    import subprocess
    import sys

    from ltc_control.resources import config_path

    env = {k: v for k, v in os.environ.items() if k != "FASTDDS_DEFAULT_PROFILES_FILE"}
    if own_profile:
        env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(tmp_path / "mine.xml")
    out = subprocess.run(
        [sys.executable, "-c", INIT_AND_PRINT_PROFILE],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    expected = tmp_path / "mine.xml" if own_profile else config_path("fastdds.xml")
    assert out == str(expected)
    assert "non_blocking_send>true<" in config_path("fastdds.xml").read_text()
