"""The BarrierNet layer: same answer as the filter, gradients checked by finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ltc_control.safety.layer import BarrierNetError, BarrierNetLayer, DenseQP


def _batch(robot, layer, batch: int, seed: int):
    rng = np.random.default_rng(seed)
    limits = robot.limits
    q = torch.tensor(
        np.stack([rng.uniform(limits.lower + 0.2, limits.upper - 0.2) for _ in range(batch)])
    )
    v = torch.tensor(rng.uniform(-0.3, 0.3, (batch, robot.dof)) * limits.velocity)
    u = torch.tensor(rng.uniform(-2, 2, (batch, robot.dof)) * limits.effort, requires_grad=True)
    scale = torch.tensor(rng.uniform(0.5, 1.5, (batch, len(layer.gain_names))))
    gains = (layer.default_gains * scale).requires_grad_(True)
    return q, v, u, gains


def test_layer_matches_the_filter(robot, safety_filter) -> None:
    layer = BarrierNetLayer(safety_filter)
    q, v, u, _ = _batch(robot, layer, 8, seed=1)
    out = layer(q, v, u)
    for i in range(len(q)):
        expected = safety_filter.filter(q[i].numpy(), v[i].numpy(), u[i].detach().numpy())
        assert expected.mode == "filtered"
        np.testing.assert_allclose(out[i].detach().numpy(), expected.command, atol=1e-8)


def test_precomputed_rows_give_the_same_command_and_gradients(robot, safety_filter) -> None:
    """Training computes each sample's rows once (sample_rows) and passes them in: the layer
    must then solve the very QP it solves from q, v."""
    layer = BarrierNetLayer(safety_filter)
    q, v, u, gains = _batch(robot, layer, 6, seed=4)
    rows = torch.tensor(
        np.stack([layer.sample_rows(qi, vi) for qi, vi in zip(q.numpy(), v.numpy(), strict=True)])
    )
    assert rows.shape == (6, layer.row_width)
    (direct,) = torch.autograd.grad(layer(q, v, u, gains).sum(), gains)
    from_rows = layer(q, v, u, gains, rows=rows)
    np.testing.assert_allclose(from_rows.detach(), layer(q, v, u, gains).detach(), atol=1e-12)
    (through_rows,) = torch.autograd.grad(from_rows.sum(), gains)
    np.testing.assert_allclose(through_rows, direct, atol=1e-12)
    with pytest.raises(BarrierNetError, match="rows must have shape"):
        layer(q, v, u, gains, rows=rows[:, :-1])


def test_layer_gradients_pass_gradcheck(robot, safety_filter) -> None:
    layer = BarrierNetLayer(safety_filter)
    q, v, u, gains = _batch(robot, layer, 2, seed=2)
    assert torch.autograd.gradcheck(
        lambda u_, g_: layer(q, v, u_, g_), (u, gains), eps=1e-6, atol=1e-5, rtol=1e-4
    )
    out = layer(q, v, u, gains)
    out.sum().backward()
    assert gains.grad.abs().sum() > 0, "no CBF row active: the gains test nothing"


def test_dense_qp_gradcheck_with_active_constraints() -> None:
    rng = np.random.default_rng(0)
    n, m, batch = 4, 6, 3
    root = rng.normal(size=(batch, n, n))
    H = torch.tensor(root @ root.transpose(0, 2, 1) + n * np.eye(n), requires_grad=True)
    f = torch.tensor(rng.normal(size=(batch, n)) * 5, requires_grad=True)
    A = torch.tensor(rng.normal(size=(batch, m, n)), requires_grad=True)
    b = torch.tensor(rng.uniform(0.1, 1.0, (batch, m)), requires_grad=True)
    x, solved = DenseQP.apply(H, f, A, b)
    assert bool(solved.all())
    residual = b - (A @ x.unsqueeze(-1)).squeeze(-1)
    assert (residual.abs() < 1e-9).sum() >= batch  # active constraints in the test
    assert torch.autograd.gradcheck(
        lambda *qp: DenseQP.apply(*qp)[0], (H, f, A, b), eps=1e-6, atol=1e-6
    )


def test_a_state_outside_the_safe_set_gets_the_filters_braking_command_and_no_gradient(
    robot, safety_filter
) -> None:
    """Unfiltered expert rollouts reach 2-4x a velocity limit: no command satisfies the hard
    rows there. The layer answers as the deployed filter does, and training goes on."""
    layer = BarrierNetLayer(safety_filter)
    q, v, u, _ = _batch(robot, layer, 3, seed=5)
    v = v.clone()
    v[1] = torch.tensor(4.0 * robot.limits.velocity)  # far beyond every velocity limit
    out = layer(q, v, u)  # the configured gains, as the filter below
    deployed = safety_filter.filter(q[1].numpy(), v[1].numpy(), u[1].detach().numpy())
    assert deployed.mode == "fallback"
    np.testing.assert_allclose(out[1].detach().numpy(), deployed.command, atol=1e-12)
    assert layer.fallbacks == 1
    out.sum().backward()
    assert torch.all(u.grad[1] == 0) and torch.any(u.grad[0] != 0)
    for i in (0, 2):  # the other samples are filtered as before
        expected = safety_filter.filter(q[i].numpy(), v[i].numpy(), u[i].detach().numpy())
        np.testing.assert_allclose(out[i].detach().numpy(), expected.command, atol=1e-8)


def test_layer_rejects_bad_gains(robot, safety_filter) -> None:
    layer = BarrierNetLayer(safety_filter)
    q, v, u, gains = _batch(robot, layer, 2, seed=3)
    with pytest.raises(BarrierNetError, match="positive"):
        layer(q, v, u, -gains.detach())
    with pytest.raises(BarrierNetError, match="shape"):
        layer(q, v, u, gains.detach()[:, :1])
