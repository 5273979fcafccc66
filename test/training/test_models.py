"""The training-time forward pass equals the deployed numpy forward pass, per-sample dt included."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ltc_control.training.dataset import Normalizer
from ltc_control.training.export import to_policy
from ltc_control.training.models import build_model

N_IN, N_OUT = 7, 2
NAMES = (
    [f"in{i}" for i in range(N_IN)],
    ["1"] * N_IN,
    [f"out{i}" for i in range(N_OUT)],
    ["1"] * N_OUT,
)


def _normalizer(rng) -> Normalizer:
    return Normalizer(
        rng.normal(size=N_IN),
        rng.uniform(0.5, 2, N_IN),
        rng.normal(size=N_OUT),
        rng.uniform(0.5, 2, N_OUT),
    )


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("cfc", {"units": 8}),
        ("cfc", {"units": 8, "mixed_memory": True}),
        ("cfc", {"units": 8, "wiring": "full"}),
        ("ltc", {"units": 8, "ode_unfolds": 3}),
        ("lstm", {"units": 5}),
        ("mlp", {"hidden": 6, "layers": 2}),
    ],
)
def test_numpy_policy_matches_torch_with_irregular_dt(kind, options):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = build_model(kind, N_IN, N_OUT, **options)
    normalizer = _normalizer(rng)
    batch, steps = 3, 12
    raw = rng.normal(size=(batch, steps, N_IN))
    dt = rng.uniform(0.003, 0.03, size=(batch, steps))  # different per sample and per sequence
    z = (raw - normalizer.input_mean) / normalizer.input_std
    with torch.no_grad():
        y, _ = model(torch.tensor(z, dtype=torch.float32), torch.tensor(dt, dtype=torch.float32))
    expected = y.numpy() * normalizer.output_std + normalizer.output_mean
    policy = to_policy(model, normalizer, NAMES, "parity")
    for b in range(batch):
        policy.reset()
        got = np.stack([policy.step(raw[b, t], float(dt[b, t])) for t in range(steps)])
        np.testing.assert_allclose(got, expected[b], rtol=2e-4, atol=2e-4)


def test_liquid_output_depends_on_elapsed_time():
    """The CfC integrates real time: the same inputs at another rate give other outputs."""
    torch.manual_seed(1)
    model = build_model("cfc", N_IN, N_OUT, units=8)
    x = torch.randn(1, 20, N_IN)
    with torch.no_grad():
        slow, _ = model(x, torch.full((1, 20), 0.02))
        fast, _ = model(x, torch.full((1, 20), 0.005))
    assert torch.max(torch.abs(slow - fast)) > 1e-3


def test_state_carries_across_windows():
    """Two half windows with the state carried equal one whole window (truncated BPTT)."""
    torch.manual_seed(2)
    model = build_model("ltc", N_IN, N_OUT, units=8)
    x, dt = torch.randn(2, 10, N_IN), torch.full((2, 10), 0.01)
    with torch.no_grad():
        whole, _ = model(x, dt)
        first, state = model(x[:, :5], dt[:, :5])
        second, _ = model(x[:, 5:], dt[:, 5:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


def test_barrier_head_uses_configured_gains_at_zero_and_brakes_at_limits():
    """Raw gain 0 -> the filter's configured gains; the command is the filter's QP solution."""
    from ltc_control.evaluation import Evaluator
    from ltc_control.robots import load_robot_description
    from ltc_control.training.barrier import BarrierNetHead

    robot = load_robot_description("double_pendulum")
    safety = Evaluator(robot).safety_filter(100.0)
    head = BarrierNetHead(safety)
    n = len(head.output_names)
    torch.testing.assert_close(head.gains(torch.zeros(n)), head.default_gains)
    q = np.array([robot.limits.upper[0] - 0.08, 0.0])
    v = np.array([3.0, 0.0])  # racing toward the upper limit of joint 1
    nominal = torch.tensor([[robot.limits.effort[0], 0.0]], requires_grad=True)
    raw = torch.zeros(1, n, requires_grad=True)
    u = head.command(
        nominal,
        raw,
        torch.tensor(q[None], dtype=torch.float32),
        torch.tensor(v[None], dtype=torch.float32),
    )
    expected = safety.filter(q, v, nominal.detach().numpy()[0]).command
    np.testing.assert_allclose(u.detach().numpy()[0], expected, atol=1e-4)
    assert u[0, 0] < nominal[0, 0] - 0.1  # the filter cuts the push toward the limit
    u[0, 0].backward()
    assert torch.isfinite(raw.grad).all() and nominal.grad is not None


@pytest.mark.parametrize(
    ("action", "outputs"),
    [
        ("effort_over_gravity", ["effort_over_gravity/joint1", "effort_over_gravity/joint2"]),
        ("ee_acceleration", ["ee_acceleration/x", "ee_acceleration/y", "ee_acceleration/z"]),
    ],
)
def test_barriernet_model_trains_and_exports(tmp_path, tiny_config, action, outputs):
    from ltc_control.runtime import load_policy
    from ltc_control.training import train_config_from_dict
    from ltc_control.training.trainer import run_training

    spec = {
        "name": "bn",
        "kind": "cfc",
        "units": 8,
        "barriernet": True,
        "output": str(tmp_path / "bn.npz"),
    }
    config = tiny_config(tmp_path, models=[spec])
    config["data"] = {
        "simulated": {"episodes": 3, "duration_s": 1.0},
        "validation_fraction": 0.3,
        "senses": ["ee_error", "ee_velocity"],
        "action": action,
    }
    config["training"] |= {"epochs": 2}
    config["dagger"] = {"rounds": 0}
    _, (result,) = run_training(train_config_from_dict(config))
    policy = load_policy(result.model_path)
    assert policy.output_names[: len(outputs)] == outputs
    assert "cbf_gain/joint_velocity.gain_1" in policy.output_names[len(outputs) :]
    assert np.isfinite(result.report["final_validation_loss"])


def test_full_wiring_reads_out_every_neuron_and_ncp_has_a_command_bottleneck():
    """Why `wiring: full` exists: AutoNCP's 19 neurons for 7 joints leave 4 command neurons
    between the inputs and the 7 motor neurons; the full wiring is one layer read out whole."""
    ncp = build_model("cfc", 17, 7, units=19)
    full = build_model("cfc", 17, 7, units=19, wiring="full")
    assert ncp.module.rnn_cell.layer_sizes == [8, 4, 7]
    assert full.module.rnn_cell.layer_sizes == [19]
    assert full.module.fc.in_features == 19 and full.module.fc.out_features == 7
    with pytest.raises(ValueError, match="full: cfc"):
        build_model("ltc", 17, 7, units=19, wiring="full")
