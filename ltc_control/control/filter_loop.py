"""The safety filter's torque loop, free of ROS: joint states and nominal commands in, one safe
torque command and its status out per accepted joint state.

The filter node and the closed-loop evaluation's torque-loop mode both run it. Promises:
- Every accepted joint state is answered with one command: the latest nominal command (held
  between policy steps: the policy may run slower, e.g. 100 Hz against a 1 kHz loop) filtered
  through the SafetyFilter at that state.
- Until the first nominal command of an activation (`start`) the loop waits: it answers with
  the braking command in mode "waiting" (counted in `waiting`), which is neither a fallback nor
  a watchdog event.
- Watchdog: no fresh joint state or nominal command within `watchdog_timeout` (s, the caller's
  clock) gives the braking command in mode "watchdog"; `check_watchdog` covers joint states that
  stop coming.
- Joint states whose names do not match or whose stamps are repeated, out of order, older than
  the timeout or that far in the future (StampClock) are refused and counted in `rejected`; a
  clock jump backwards (simulator reset) is accepted. A malformed nominal command is refused and
  counted, and the loop brakes ("fallback") until a good one arrives.
- BarrierNet mode (control.barrier_gains.GainsHold): once class-K gains have arrived
  (`on_gains`), each cycle filters the held nominal command with the gains stamped like it
  (`on_nominal`'s stamp), else with the configured gains, counted in `gains.stale`; the filter
  keeps each gain inside its safe range (SafetyFilter). Without gains nothing changes.
- An exception from the filter core (e.g. a crashing solver) is caught, counted in
  `filter_errors` and answered with braking ("fallback"): the last line before the motors never
  crashes. Whatever happens, the command is inside the torque box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ltc_control.control.barrier_gains import GainsHold
from ltc_control.control.stamps import StampClock
from ltc_control.control.watchdog import CommandWatchdog
from ltc_control.runtime.signals import JointMatcher, SignalError
from ltc_control.safety import FilterResult, SafetyFilter

FILTERED, FALLBACK, WATCHDOG, WAITING = "filtered", "fallback", "watchdog", "waiting"
WAITING_REASON = "waiting for the first nominal command"
WATCHDOG_TIMEOUT = 0.05  # s, the filter node's default watchdog_timeout


@dataclass(frozen=True)
class FilterStatus:
    """What one cycle sent and why. Margins, slack and the active set are the QP step's
    (computed on first access); a braking status without a QP has NaN margins (not evaluated)."""

    mode: str  # FILTERED | FALLBACK | WATCHDOG | WAITING
    reason: str  # empty when filtered
    nominal: np.ndarray  # N·m, as used (NaN when braking without one)
    command: np.ndarray  # N·m, as sent
    result: FilterResult | None  # the QP step behind the command; None when braking
    unevaluated: np.ndarray  # NaN per constraint group: the margins of a braking status

    @property
    def braking(self) -> bool:
        return self.mode != FILTERED

    @property
    def margins(self) -> np.ndarray:
        return self.unevaluated if self.result is None else self.result.margins

    @property
    def slack(self) -> np.ndarray:
        return np.zeros_like(self.unevaluated) if self.result is None else self.result.slack

    @property
    def active_constraints(self) -> tuple[str, ...]:
        return () if self.result is None else self.result.active_constraints

    @property
    def gains(self) -> np.ndarray:
        """Class-K gains the QP step used (1/s, SafetyFilter.gain_names order); empty without."""
        return np.zeros(0) if self.result is None else self.result.gains


class FilterLoop:
    """One safety filter's torque loop (see the module docstring); `start` begins an activation."""

    def __init__(
        self, safety_filter: SafetyFilter, watchdog_timeout: float = WATCHDOG_TIMEOUT
    ) -> None:
        self.filter = safety_filter
        names = safety_filter.robot.joint_names
        # Name lookups cached per stream (the state and the nominal command may order differently).
        self._match_state = JointMatcher(names)
        self._match_nominal = JointMatcher(names)
        self.watchdog = CommandWatchdog(watchdog_timeout)
        timeout = watchdog_timeout
        self.stamps = StampClock(
            timeout, math.inf, max_age=timeout, future_tolerance=timeout, reset_jump=timeout
        )
        self._unevaluated = np.full(len(safety_filter.constraint_names), np.nan)
        self._no_nominal = np.full(safety_filter.robot.dof, np.nan)
        self.gains = GainsHold(safety_filter.gain_names, safety_filter.configured_gains)
        self.rejected = 0  # joint states and nominal commands refused
        self.refusal = ""  # why the latest one was refused
        self.filter_errors = 0  # exceptions from the filter core
        self.error: Exception | None = None  # the latest one
        self.waiting = 0  # cycles answered while waiting for the first nominal command
        self.cycles = 0  # steps answered
        self.start()

    def start(self) -> None:
        """A new activation: no state, no nominal command (the loop waits for one), watchdog
        and stamps reset."""
        self.q: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.nominal: np.ndarray | None = None  # held between policy steps (zero-order hold)
        self.nominal_problem = WAITING_REASON  # why there is no nominal command
        self.watchdog.reset()
        self.stamps.reset()
        self.gains.start()

    @property
    def waiting_for_nominal(self) -> bool:
        """No nominal command has arrived since `start` (a malformed one ends the wait too)."""
        return self.nominal_problem == WAITING_REASON

    # --- inputs -----------------------------------------------------------------------------
    def on_nominal(
        self, names: Sequence[str], effort: Sequence[float], now: float, stamp: float | None = None
    ) -> bool:
        """Hold a nominal command (N·m, joints matched by name; `stamp` s, to find its gains);
        False if refused."""
        try:
            self.nominal = self._match_nominal(names, effort)
        except SignalError as exc:
            self.refuse(f"nominal command refused: {exc}")
            self.nominal, self.nominal_problem = None, f"malformed nominal command: {exc}"
            return False
        self.nominal_problem = ""
        self.gains.on_nominal(stamp)
        self.watchdog.command_received(now)
        return True

    def on_gains(self, names: Sequence[str], gains: Sequence[float], stamp: float) -> bool:
        """Hold the class-K gains (1/s, by name) for the nominal command stamped `stamp`; False
        (refused, counted) if names and gains differ in length."""
        if self.gains.on_gains(stamp, names, gains):
            return True
        self.refuse(f"barrier gains refused: {len(names)} names, {len(gains)} gains")
        return False

    def on_joint_state(
        self,
        names: Sequence[str],
        position: Sequence[float],
        velocity: Sequence[float],
        stamp: float,
        now: float,
    ) -> bool:
        """Take a joint state as the latest (False if refused); `step` then answers it."""
        try:
            q = self._match_state(names, position)
            v = self._match_state(names, velocity)
        except SignalError as exc:
            self.refuse(f"joint state refused: {exc}")
            return False
        verdict, _ = self.stamps.elapsed(stamp, now)
        if not verdict.accepted:
            self.refuse(f"joint state refused: {verdict.value} stamp {stamp:.9f} s")
            return False
        self.q, self.v = q, v
        self.watchdog.state_received(now)
        return True

    def step(self, now: float) -> FilterStatus | None:
        """One torque-loop cycle at the latest joint state (None before any): the held nominal
        command filtered, or braking (waiting, watchdog, no valid nominal, filter error)."""
        if self.q is None:
            return None
        self.cycles += 1
        reason = self.watchdog.check(now, command_expected=not self.waiting_for_nominal)
        if reason:
            return self.brake(f"watchdog: {reason}", WATCHDOG)
        if self.waiting_for_nominal:
            self.waiting += 1
            return self.brake(WAITING_REASON, WAITING)
        if self.nominal is None:
            return self.brake(self.nominal_problem)
        try:
            result = self.filter.filter(self.q, self.v, self.nominal, self.gains.for_step())
        except Exception as exc:  # the last line before the motors: brake, never crash
            self.filter_errors += 1
            self.error = exc
            return self.brake(f"filter error: {type(exc).__name__}: {exc}")
        return FilterStatus(
            result.mode, result.reason, self.nominal, result.command, result, self._unevaluated
        )

    def check_watchdog(self, now: float) -> FilterStatus | None:
        """The braking status if the inputs went silent since the last cycle (else None)."""
        reason = self.watchdog.check(now, command_expected=not self.waiting_for_nominal)
        if reason and self.q is not None:
            return self.brake(f"watchdog: {reason}", WATCHDOG)
        return None

    # --- outputs ----------------------------------------------------------------------------
    def brake(self, reason: str, mode: str = FALLBACK) -> FilterStatus | None:
        """The braking command at the latest state (None before any joint state)."""
        if self.q is None:
            return None
        command = self.filter.braking_command(self.q, self.v)
        return FilterStatus(mode, reason, self._no_nominal, command, None, self._unevaluated)

    def refuse(self, message: str) -> None:
        """Count a refused input (or parameter update) and keep why."""
        self.rejected += 1
        self.refusal = message


@dataclass
class RecentTrouble:
    """Deadline overruns and refused inputs over the last window (e.g. one diagnostics period),
    as a fraction of the cycles in it: a health report warns about what is happening now and
    often enough to act on, not about one overrun an hour ago."""

    threshold: float = 0.01  # fraction of the window's cycles
    _last: tuple[int, int, int] = (0, 0, 0)

    def update(self, cycles: int, overruns: int, rejected: int) -> str:
        """'' when the window since the last call was healthy, else what went wrong in it."""
        last_cycles, last_overruns, last_rejected = self._last
        self._last = (cycles, overruns, rejected)
        window = max(cycles - last_cycles, 1)
        problems = []
        for name, count in (
            ("overruns", overruns - last_overruns),
            ("rejected inputs", rejected - last_rejected),
        ):
            if count > self.threshold * window:
                problems.append(f"{count} {name} in {window} cycles")
        return ", ".join(problems)
