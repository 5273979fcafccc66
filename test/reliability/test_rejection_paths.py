"""Every rejection path of the loop's cores, with the exact error or counter it produces.

Cores only (no ROS): joint matching, the policy controller, stamps, the watchdog, the safety
filter (invalid input, infeasible, solver failure, wrong answers, slow solver), its config and
run-time tightening, and model files. The same paths through real topics: test_nodes_under_faults.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from reliability_cases import (
    PANDA,
    FailingSolver,
    RaisingSolver,
    SlowSolver,
    WrongAnswerSolver,
    infeasible_state,
    make_filter,
    torque_limit,
)

from ltc_control.control.policy_controller import PolicyController
from ltc_control.control.stamps import StampClock
from ltc_control.control.watchdog import CommandWatchdog
from ltc_control.errors import ConfigError
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime import load_policy
from ltc_control.runtime.errors import ModelFileError
from ltc_control.runtime.signals import SignalError, match_joints
from ltc_control.safety import SafetyConfig, load_safety_config
from ltc_control.safety.qp import DaqpSolver, QPSolution

JOINTS = list(PANDA.joint_names)
HOME = PANDA.home
ZERO = np.zeros(PANDA.dof)

# numpy overflow warnings are the point of huge inputs, not a problem
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ltc_testing import write_untrained_policy

    return write_untrained_policy("panda", tmp_path_factory.mktemp("m") / "panda.npz")


@pytest.fixture
def controller(policy_file: Path) -> PolicyController:
    clock = StampClock(0.01, 0.1, max_age=0.5, future_tolerance=0.05, reset_jump=0.5)
    return PolicyController(
        load_policy(policy_file), JOINTS, clock, PinocchioDynamics(PANDA).gravity
    )


# --- joint matching -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "values", "message"),
    [
        ([], [], "message lacks joints \\['panda_joint1'"),
        (JOINTS, HOME[:6].tolist(), "7 joint names but 6 values"),
        (JOINTS[:6], HOME[:6].tolist(), "message lacks joints \\['panda_joint7'\\]"),
        ([*JOINTS, "panda_joint1"], [*HOME, 0.0], "joint 'panda_joint1' appears twice"),
        (["elbow", *JOINTS[1:]], HOME.tolist(), "message lacks joints \\['panda_joint1'\\]"),
        (JOINTS, [np.nan, *HOME[1:]], "non-finite joint values \\[nan"),
        (JOINTS, [*HOME[:6], -np.inf], "non-finite joint values .*-inf\\]"),
    ],
)
def test_malformed_joint_arrays_raise_signal_error(names, values, message) -> None:
    with pytest.raises(SignalError, match=message):
        match_joints(names, values, JOINTS)


def test_reordered_and_extra_joints_are_matched_by_name() -> None:
    order = [6, 2, 0, 5, 1, 4, 3]
    names = [JOINTS[i] for i in order] + ["panda_finger_joint1"]
    values = [float(HOME[i]) for i in order] + [0.04]
    np.testing.assert_array_equal(match_joints(names, values, JOINTS), HOME)


# --- policy controller ----------------------------------------------------------------------


def test_controller_counts_each_refusal_by_reason(controller: PolicyController) -> None:
    c = controller
    assert c.on_joint_state(JOINTS, HOME, ZERO, 1.0, 1.0) is None
    assert c.rejections == {"no_target_yet": 1}
    assert not c.set_target([0.5, np.nan, 0.5])
    assert not c.set_target([0.5, 0.0])
    assert c.set_target([0.5, 0.0, 0.5])
    assert c.on_joint_state(JOINTS, HOME[:6], ZERO, 1.0, 1.0) is None
    assert c.on_joint_state(JOINTS, HOME, ZERO, 1.0, 1.0) is not None  # first
    assert c.on_joint_state(JOINTS, HOME, ZERO, 1.0, 1.0) is None  # repeated
    assert c.on_joint_state(JOINTS, HOME, ZERO, 0.99, 1.0) is None  # out of order
    assert c.on_joint_state(JOINTS, HOME, ZERO, 2.0, 1.0) is None  # future
    assert c.on_joint_state(JOINTS, HOME, ZERO, 1.005, 3.0) is None  # stale
    assert c.on_joint_state(JOINTS, HOME, ZERO, float("nan"), 1.0) is None
    assert c.rejections == {
        "no_target_yet": 1,
        "bad_target": 2,
        "bad_joint_state": 1,
        "out_of_order": 2,
        "future": 1,
        "stale": 1,
        "not_finite": 1,
    }
    assert c.steps == 1


@pytest.mark.parametrize("where", ["position", "velocity", "target"])
def test_values_the_network_cannot_represent_are_refused(
    controller: PolicyController, where: str
) -> None:
    """1e300 is finite in float64 but not in the model's float32: once this raised out of the
    policy node's callback (a crash); now it is refused and counted."""
    huge = np.full(PANDA.dof, 1e300)
    q, v = (huge, ZERO) if where == "position" else (HOME, huge if where == "velocity" else ZERO)
    controller.set_target([1e300, 0.0, 0.5] if where == "target" else [0.5, 0.0, 0.5])
    assert controller.on_joint_state(JOINTS, q, v, 1.0, 1.0) is None
    assert controller.rejections == {"network_input": 1}
    controller.set_target([0.5, 0.0, 0.5])
    step = controller.on_joint_state(JOINTS, HOME, ZERO, 1.01, 1.01)
    assert step is not None and np.all(np.isfinite(step.command))  # recovers


class _NaNPolicy:
    """A policy whose output is NaN once (a diverged network), to test the output guard."""

    def __init__(self, policy: object) -> None:
        self.inner, self.poisoned = policy, True
        self.input_names, self.output_names = policy.input_names, policy.output_names
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1
        self.inner.reset()

    def step(self, x: np.ndarray, dt: float) -> np.ndarray:
        y = self.inner.step(x, dt)
        if self.poisoned:
            self.poisoned = False
            return np.full_like(y, np.nan)
        return y


def test_non_finite_network_output_is_refused_and_resets_the_state(policy_file: Path) -> None:
    policy = _NaNPolicy(load_policy(policy_file))
    c = PolicyController(policy, JOINTS, StampClock(0.01, 0.1), PinocchioDynamics(PANDA).gravity)
    c.set_target([0.5, 0.0, 0.5])
    assert c.on_joint_state(JOINTS, HOME, ZERO, 1.0, 1.0) is None
    assert c.rejections == {"network_output": 1} and policy.resets == 1
    step = c.on_joint_state(JOINTS, HOME, ZERO, 1.01, 1.01)
    assert step is not None and np.all(np.isfinite(step.command))


# --- watchdog -------------------------------------------------------------------------------


def test_watchdog_fires_when_the_clock_jumps_backwards() -> None:
    """A simulator reset (sim time 10 s -> 0 s) must not leave the watchdog blind for 10 s."""
    watchdog = CommandWatchdog(timeout=0.05)
    watchdog.state_received(10.0)
    watchdog.command_received(10.0)
    assert watchdog.check(10.01) == ""
    assert watchdog.check(0.0) == "no fresh joint state"
    watchdog.state_received(0.0)
    assert watchdog.check(0.001) == "no fresh nominal command"
    watchdog.command_received(0.002)
    assert watchdog.check(0.003) == ""
    assert watchdog.fired == 1


# --- safety filter --------------------------------------------------------------------------


def test_non_finite_filter_input_brakes_and_counts() -> None:
    f = make_filter()
    result = f.filter(HOME, ZERO, np.full(PANDA.dof, np.nan))
    assert (result.mode, result.reason) == ("fallback", "invalid_input: non-finite u_nominal")
    np.testing.assert_allclose(result.command, f.braking_command(HOME, ZERO))
    result = f.filter(HOME, ZERO, np.full(PANDA.dof, 1e200))
    assert result.reason == "invalid_input: u_nominal beyond 1000 x the effort limits"
    result = f.filter(np.full(PANDA.dof, 1e200), ZERO, ZERO)
    assert result.reason == "invalid_input: q or v too large (|x| >= 1e+150)"
    assert f.counters["invalid_input"] == 3 and f.counters["fallback"] == 3


def test_infeasible_constraint_set_brakes_and_counts() -> None:
    f = make_filter()
    q, v = infeasible_state()
    result = f.filter(q, v, ZERO)
    assert result.mode == "fallback"
    assert result.reason == "infeasible: no command satisfies every hard constraint"
    assert f.counters["infeasible"] == 1
    assert np.all(np.abs(result.command) <= torque_limit(f))


@pytest.mark.parametrize(
    ("solver", "reason", "counter"),
    [
        (FailingSolver(-4), "solver_failure: daqp exitflag -4 (iteration limit)", "solver_failure"),
        (WrongAnswerSolver("box"), "solver_failure: solution outside the torque box", None),
        (WrongAnswerSolver("nan"), "solver_failure: non-finite solution", None),
        (
            WrongAnswerSolver("rows"),
            "solver_failure: hard constraint joint_velocity violated by the solution",
            None,
        ),
    ],
)
def test_solver_failures_and_wrong_answers_brake_and_count(solver, reason, counter) -> None:
    f = make_filter()
    f.solver = solver
    v = np.zeros(PANDA.dof)
    v[0] = PANDA.limits.velocity[0] - 0.06  # at the velocity barrier: pushing on makes a row bind
    result = f.filter(HOME, v, np.full(PANDA.dof, 80.0))
    assert (result.mode, result.reason) == ("fallback", reason)
    assert f.counters["solver_failure"] == 1 and f.counters["fallback"] == 1
    np.testing.assert_allclose(result.command, f.braking_command(HOME, v))
    f.solver = DaqpSolver()
    assert f.filter(HOME, ZERO, ZERO).mode == "filtered"  # recovers with a working solver


def test_a_solver_exception_propagates_from_the_core() -> None:
    """The core does not catch arbitrary solver exceptions; the node does (braking + counter,
    see test_nodes_under_faults). This pins the contract the node relies on."""
    f = make_filter()
    f.solver = RaisingSolver()
    with pytest.raises(RuntimeError, match="solver crashed"):
        f.filter(HOME, ZERO, ZERO)


def test_a_slow_solver_still_returns_a_checked_command() -> None:
    """A solver that takes longer than the control period (a "timeout"): Python cannot preempt
    it; the answer is still certificate-checked. The node counts the deadline overrun."""
    f = make_filter()
    f.solver = SlowSolver(DaqpSolver(), delay_s=0.02)
    start = time.perf_counter()
    result = f.filter(HOME, ZERO, np.full(PANDA.dof, 100.0))
    assert time.perf_counter() - start >= 0.02
    assert result.mode == "filtered" and np.all(np.abs(result.command) <= torque_limit(f))


def test_unsolved_status_from_solver_is_never_trusted() -> None:
    f = make_filter()
    f.solver = FailingSolver(-6)
    assert f.filter(HOME, ZERO, ZERO).reason == "solver_failure: daqp exitflag -6"
    assert isinstance(FailingSolver(-4).solve(None), QPSolution)


# --- configuration and run-time parameter changes -------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("torque_limit_scale: [1.0\n", "malformed YAML"),
        ("force_max: -5.0\n", "'force_max' must be > 0 N"),
        ("force_max: .nan\n", "'force_max' must be a finite number"),
        ("velocity_gain: fast\n", "'velocity_gain' must be a finite number"),
        ("no_such_key: 1.0\n", "unknown safety config keys \\['no_such_key'\\]"),
        ("- 1\n- 2\n", "safety config must be a mapping, got list"),
        ("workspace_box_lower: [0, 0]\n", "'workspace_box_lower' must be 3 numbers"),
        ("velocity_soft: 3\n", "'velocity_soft' must be true or false"),
    ],
)
def test_malformed_safety_yaml_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_safety_config(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"torque_limit_scale": 1.5}, "'torque_limit_scale' must be in \\(0, 1\\]"),
        ({"force_max": 80.0}, "force_max above the configured 50.0 N"),
        ({"velocity_margin": -0.1}, "'velocity_margin' must be >= 0"),
        ({"velocity_gain": 10.0}, "tighten\\(\\) accepts only"),
        ({"workspace_box_upper": [2.0, 2.0, 2.0]}, "workspace box larger"),
    ],
)
def test_loosening_or_invalid_tightening_is_refused_and_changes_nothing(changes, message) -> None:
    f = make_filter()
    before = f.config
    with pytest.raises(ConfigError, match=message):
        f.tighten(**changes)
    assert f.config == before
    assert f.filter(HOME, ZERO, ZERO).mode == "filtered"


def test_tightening_takes_effect_on_the_next_command() -> None:
    f = make_filter()
    f.tighten(torque_limit_scale=0.5)
    result = f.filter(HOME, ZERO, np.full(PANDA.dof, 1e3))
    assert np.all(np.abs(result.command) <= 0.5 * PANDA.limits.effort + 1e-9)


def test_safety_config_from_ros_style_dict_names_the_key() -> None:
    with pytest.raises(ConfigError, match="'control_period' must be in"):
        SafetyConfig.from_dict({"control_period": 0.0})


# --- model files ----------------------------------------------------------------------------


def _truncated(src: Path, dst: Path) -> None:
    dst.write_bytes(src.read_bytes()[:500])


def _wrong_shape(src: Path, dst: Path) -> None:
    arrays = dict(np.load(src, allow_pickle=False))
    name = next(k for k in arrays if k.startswith("param/"))
    arrays[name] = arrays[name][..., :-1]
    np.savez(dst, **arrays)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "does not exist"),
        (lambda s, d: d.write_bytes(b""), "is not a model file: .*an empty file"),
        (_truncated, "is not a readable .npz archive"),
        (_wrong_shape, "metadata says"),
    ],
)
def test_missing_or_broken_model_files_raise_model_file_error(
    policy_file: Path, tmp_path: Path, make, message: str
) -> None:
    path = tmp_path / "model.npz"
    if make is not None:
        make(policy_file, path)
    with pytest.raises(ModelFileError, match=message):
        load_policy(path)


def test_model_for_another_robot_is_refused(tmp_path: Path) -> None:
    from ltc_testing import write_untrained_policy

    other = load_policy(write_untrained_policy("double_pendulum", tmp_path / "dp.npz"))
    with pytest.raises(SignalError, match="model input 'position/joint1' is not a known signal"):
        PolicyController(other, JOINTS, StampClock(0.01, 0.1))


def test_a_huge_nominal_command_is_refused_not_reported_as_infeasible() -> None:
    """At home and at rest the hard rows are feasible whatever the nominal command (they do not
    depend on it; the braking command satisfies them), so 'infeasible' would be a false
    diagnosis (DAQP gives up on a 1e50 linear term): an operator would look for a constraint
    conflict that is not there. Such a command is refused as invalid input instead."""
    from ltc_control.safety.constraints import inequality_rows

    f = make_filter()
    terms, groups = f.rows(HOME, ZERO)
    braking = f.braking_command(HOME, ZERO)
    for constraint, rows in zip(f.constraints, groups, strict=True):
        G, w = inequality_rows(rows, terms, f.config.control_period)
        assert constraint.soft or np.all(G @ braking <= w + 1e-9)  # feasible
    result = f.filter(HOME, ZERO, np.full(PANDA.dof, 1e50))
    assert np.all(np.abs(result.command) <= torque_limit(f))
    assert result.reason == "invalid_input: u_nominal beyond 1000 x the effort limits"
    assert f.counters["infeasible"] == 0 and f.counters["invalid_input"] == 1
    # Just inside the bound the command is filtered, not refused.
    inside = 0.999 * 1e3 * PANDA.limits.effort
    assert f.filter(HOME, ZERO, inside).mode == "filtered"
