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


def test_barrier_layer_keeps_joints_inside_their_limits():
    """At a joint limit moving outwards, the layer brakes; far from limits it passes u through."""
    from ltc_control.robots import load_robot_description
    from ltc_control.training.barrier import BarrierLayer

    robot = load_robot_description("double_pendulum")
    layer = BarrierLayer(robot)
    mass, bias = torch.eye(2).expand(2, 2, 2), torch.zeros(2, 2)
    q = torch.tensor([[0.0, 0.0], [robot.limits.upper[0] - 0.01, 0.0]], dtype=torch.float32)
    v = torch.tensor([[0.1, -0.1], [2.0, 0.0]])
    u = torch.tensor([[0.3, -0.2], [1.0, 0.0]], requires_grad=True)
    gains = torch.full((2, 2), 5.0, requires_grad=True)
    command = layer(u, q, v, mass, bias, gains, gains)
    torch.testing.assert_close(command[0], u[0])  # inactive: unchanged
    assert command[1, 0] < -1.0  # near the upper limit, moving up fast: decelerate
    command[1, 0].backward()
    assert gains.grad[1].abs().sum() > 0  # the gains shape the command when active


def test_barriernet_model_trains_and_exports(tmp_path, tiny_config):
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
    config["training"] |= {"epochs": 3}
    config["dagger"] = {"rounds": 0}
    _, (result,) = run_training(train_config_from_dict(config))
    policy = load_policy(result.model_path)
    assert policy.output_names == [
        "effort_over_gravity/joint1",
        "effort_over_gravity/joint2",
        "cbf_velocity_gain/joint1",
        "cbf_velocity_gain/joint2",
        "cbf_position_gain/joint1",
        "cbf_position_gain/joint2",
    ]
    assert np.isfinite(result.report["final_validation_loss"])
