"""Running nodes: the five-line main of ros2/demos, with the wheels' EventsExecutor caveats.

EventsExecutor gives the lowest latency in one process (shared notes: ~0.6 ms p50 for the whole
loop at 1 kHz), but in these wheels its spin() busy-waits and ignores SIGINT; spinning with a
finite timeout in a loop blocks normally and lets signals through. It also inspects a timer
callback's signature on every tick (to pass a TimerInfo when asked for): `fast_timer_callback`.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ltc_control.errors import ConfigError, LtcControlError
from ltc_control.resources import PACKAGE, config_path

SPIN_TIMEOUT_S = 0.1
DDS_PROFILE_ENV = "FASTDDS_DEFAULT_PROFILES_FILE"
DDS_PROFILE_IN_CWD = "DEFAULT_FASTDDS_PROFILES.xml"  # Fast DDS reads it when the variable is unset


def init_ros(context: object | None = None, args: Sequence[str] | None = None, **options) -> None:
    """rclpy.init with the package's Fast DDS profile (config/fastdds.xml) unless the user has
    their own: the builtin UDP transport blocks in send() once a dead link fills the socket's
    buffer, which stalled the torque loop for the whole of a 2-s link cut (test/hosts)."""
    import rclpy

    if not Path(DDS_PROFILE_IN_CWD).is_file():
        os.environ.setdefault(DDS_PROFILE_ENV, str(config_path("fastdds.xml")))
    rclpy.init(context=context, args=args, **options)


def make_executor(context: object | None = None) -> object:
    from rclpy.experimental import EventsExecutor

    return EventsExecutor(context=context)


def fast_timer_callback(callback: Callable[[], None]) -> Callable[[], None]:
    """`callback` as a plain function with its signature precomputed: the executor's per-tick
    inspect.signature costs ~8 µs on a bound method and ~1 µs on this (measured; a 1 kHz timer)."""

    def tick() -> None:
        callback()

    tick.__signature__ = inspect.Signature()
    return tick


class AfterQueuedEvents:
    """Runs work once the executor has served the events already queued (`create_task`).

    In one process, a joint state that triggers a slow consumer (the policy's step, the
    filter's status) has also triggered the filter's answer to the robot, which the executor
    queued behind that consumer's callback; deferring the slow work lets the answer out first.
    (For the policy that needs the filter served first: DDS promises no order among a topic's
    subscribers but serves the first created first in practice, so the launch files list the
    filter before the policy.) One slot: work submitted while earlier work still waits replaces
    it (the freshest joint state, the latest status), so a flood of input never piles up tasks.
    The executor runs tasks only when its queue empties, which a flood prevents: once the queued
    task has waited `max_wait_s`, work runs at once instead. With no executor (a callback
    called directly) the work runs at once. The wheels' EventsExecutor crashes the process
    (SIGSEGV) on an exception inside a task, so an exception of the work is logged, kept, and
    raised by the next `submit`, on the callback path, where the executor reports it.
    """

    def __init__(self, node: object, max_wait_s: float) -> None:
        self._node = node
        self._max_wait_s = max_wait_s
        self._work: Callable[[], None] | None = None
        self._queued_at: float | None = None  # when the one task in the executor was created
        self._error: Exception | None = None

    def submit(self, work: Callable[[], None]) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        executor = self._node.executor
        now = time.monotonic()
        if executor is None or (
            self._queued_at is not None and now - self._queued_at > self._max_wait_s
        ):
            self._work = None  # the starved task, if any, finds nothing to do
            work()
            return
        self._work = work
        if self._queued_at is None:
            self._queued_at = now
            executor.create_task(self._run)

    def cancel(self) -> None:
        """Drop the waiting work, if any."""
        self._work = None

    def _run(self) -> None:
        work, self._work, self._queued_at = self._work, None, None
        if work is None:
            return
        try:
            work()
        except Exception as exc:  # kept, and raised by the next submit()
            self._node.get_logger().error(f"deferred work failed: {exc!r}")
            self._error = exc


# rclpy's wording of the two refusals a parameter file most often meets (rclpy/node.py).
_WRONG_TYPE = re.compile(r"parameter '(.+)' to '(.*)' of type '(\w+)', expecting type '(\w+)'")
_OUT_OF_RANGE = re.compile(r"Parameter (\S+) out of range Min: (\S+), Max: (\S+), value: (\S+)")


def _parameter_problem(message: str) -> str:
    if match := _WRONG_TYPE.search(message):
        name, value, given, expected = match.groups()
        return f"parameter '{name}' must be a {expected.lower()}, got {value!r} (a {given.lower()})"
    if match := _OUT_OF_RANGE.search(message):
        name, low, high, value = match.groups()
        value = value.rstrip(":")  # rclpy appends ": <parameter name>"
        return f"parameter '{name}' = {value} is outside its range [{low}, {high}]"
    text, _, name = message.rpartition(": ")  # rclpy appends ": <parameter name>"
    return f"parameter '{name}': {text}"


def spin_until_shutdown(
    executor: object,
    context: object,
    should_stop: Callable[[], bool] = lambda: False,
    busy_poll: bool = False,
) -> None:
    """Spin until the context shuts down (SIGINT/SIGTERM) or should_stop() is true.

    `busy_poll`: poll for work (spin_once with a zero timeout) instead of blocking on it. A
    blocked thread's CPU goes idle, and on a VM waking it takes ~0.1-0.5 ms now and then: enough
    for a 1 kHz loop to miss cycles (bench/e2e.py). Polling keeps the CPU awake; idle, it costs
    about a third of a core here (the wheels' zero-timeout spin still yields ~60 µs per poll).
    """
    timeout = 0.0 if busy_poll else SPIN_TIMEOUT_S
    while context.ok() and not should_stop():
        executor.spin_once(timeout_sec=timeout)


def run_nodes(factories: Sequence[Callable[..., object]], args: Sequence[str] | None = None) -> int:
    """main() of an executable: its node classes, built in the default context. A node that
    cannot start (a bad parameter, a missing or broken model file, ...) logs one FATAL line
    saying why and the process exits 1, as `ros2 launch` reports it."""
    try:
        return serve(lambda context: [factory(context=context) for factory in factories], args)
    except LtcControlError as exc:
        from rclpy.logging import get_logger

        executable = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else PACKAGE
        get_logger(executable).fatal(" ".join(str(exc).split()))
        return 1


@contextlib.contextmanager
def ros_errors_as_config_errors(node_name: str = "") -> Iterator[None]:
    """rclpy's refusals while a node starts (a parameter of the wrong type or out of its range,
    an unreadable parameter file) as one-line ConfigErrors naming the node and parameter."""
    from rclpy.exceptions import ParameterException
    from rclpy.impl.implementation_singleton import rclpy_implementation

    where = f"node '{node_name}': " if node_name else ""
    try:
        yield
    except ParameterException as exc:
        raise ConfigError(where + _parameter_problem(str(exc))) from None
    except rclpy_implementation.RCLError as exc:  # e.g. a --params-file that cannot be read
        # rcl appends the C source locations (", at /project/src/parser.c:271"): not for users.
        message = re.sub(r",? at \S+:\d+", "", str(exc))
        raise ConfigError(f"{where}{message}") from None


def serve(
    build: Callable[[object], Sequence[object]],
    args: Sequence[str] | None = None,
    busy_poll: bool = False,
) -> int:
    """init, build the nodes, spin (`busy_poll`: see spin_until_shutdown), shut down cleanly on
    SIGINT/SIGTERM.

    Each node may define `on_exit()` (e.g. the safety filter's final braking command); it is
    called before the node is destroyed, while publishing still works. A node whose
    `busy_poll` attribute is true (the safety filter's parameter) makes the process busy-poll.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.signals import SignalHandlerOptions

    with ros_errors_as_config_errors():
        init_ros(args=args, signal_handler_options=SignalHandlerOptions.NO)
    context = rclpy.get_default_context()
    stop = {"requested": False}

    def request_stop(signum: int, frame: object) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        with ros_errors_as_config_errors():
            nodes = build(context)
    except BaseException:
        rclpy.shutdown()
        raise
    busy_poll = busy_poll or any(getattr(node, "busy_poll", False) for node in nodes)
    executor = make_executor(context)
    for node in nodes:
        executor.add_node(node)
    try:
        spin_until_shutdown(executor, context, lambda: stop["requested"], busy_poll)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        for node in nodes:
            getattr(node, "on_exit", lambda: None)()
            node.destroy_node()
        executor.shutdown()
        if context.ok():
            rclpy.shutdown()
    return 0
