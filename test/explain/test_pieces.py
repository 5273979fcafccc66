"""The explainers' pieces against independent ground truth: LTC relaxation, ncps' own CfC time
heads, disconnected inputs, the wiring's adjacency, and the closed loop the replay reproduces."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_cases import case_ids
from ncps.torch import LTC, CfC
from ncps.wirings import NCP, FullyConnected, Wiring

from ltc_control.explain import (
    ExplainError,
    held_out_split,
    input_saliency,
    record_policy,
    record_sequences,
    synapses,
    time_constants,
    tree_fidelity,
    tree_rules,
)
from ltc_control.explain.trees import distinct_feature_sets, verdict
from ltc_control.robots import load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime import LiquidPolicy, build_network
from ltc_control.training.convert import from_ncps


def _random_sequences(n_in: int, episodes: int = 2, steps: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(steps, n_in)), rng.uniform(0.005, 0.03, steps)) for _ in range(episodes)
    ]


def test_ltc_time_constant_is_the_relaxation_time_of_a_leak_only_neuron():
    """Without synapses tau_sys = cm / gleak, and the runtime's state relaxes to vleak as
    1 - exp(-t / tau) (semi-implicit Euler, so to 1e-3)."""
    torch.manual_seed(0)
    wiring = Wiring(3)
    wiring.set_output_dim(1)
    policy = from_ncps(LTC(2, wiring, batch_first=True), dtype="float64")
    dt, steps = 0.002, 500
    recording = record_sequences(policy, [(np.zeros((steps, 2)), np.full(steps, dt))])
    tau = time_constants(policy, recording)
    assert np.ptp(tau, axis=0).max() < 1e-12  # no synapse, so no state dependence
    params = policy.network.params()
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    cm, gleak = softplus(params["rnn_cell.cm"]), softplus(params["rnn_cell.gleak"])
    np.testing.assert_allclose(tau[0], cm / gleak, rtol=1e-12)
    t = dt * np.arange(1, steps + 1)[:, None]
    vleak = params["rnn_cell.vleak"]
    expected = vleak * (1.0 - np.exp(-t / tau[0]))
    np.testing.assert_allclose(recording.state_after, expected, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("mode", ["default", "no_gate", "pure"])
def test_cfc_time_constant_uses_ncps_own_time_head(mode):
    torch.manual_seed(1)
    module = CfC(4, NCP(5, 4, 2, 3, 2, 3, 2, seed=3), batch_first=True, mode=mode).double()
    policy = from_ncps(module)
    recording = record_sequences(policy, _random_sequences(4))
    tau = time_constants(policy, recording)
    cell = module.rnn_cell
    sources = [torch.as_tensor(recording.inputs)]
    start = 0
    with torch.no_grad():
        for index in range(cell.num_layers):
            layer = getattr(cell, f"layer_{index}")
            stop = start + layer.hidden_size
            x = torch.cat([sources[-1], torch.as_tensor(recording.state_before[:, start:stop])], 1)
            if mode == "pure":
                rate = torch.abs(layer.w_tau) + torch.abs(
                    torch.nn.functional.linear(
                        x, layer.ff1.weight * layer.sparsity_mask, layer.ff1.bias
                    )
                )
                expected = 1.0 / rate.numpy()
            else:
                expected = 1.0 / np.abs(layer.time_a(x).numpy())
            np.testing.assert_allclose(tau[:, start:stop], np.clip(expected, 1e-4, 1e4), rtol=1e-9)
            sources.append(torch.as_tensor(recording.state_after[:, start:stop]))
            start = stop


def _with_input_cut(policy: LiquidPolicy, j: int) -> LiquidPolicy:
    """The same CfC with every first-layer weight from input j set to zero."""
    params = policy.network.params()
    for name in params:
        if name.startswith("rnn_cell.layer_0.") and name.endswith(".weight"):
            params[name][:, j] = 0.0
    network = build_network(policy.network.config(), params, policy.dtype)
    return LiquidPolicy(network, input_names=policy.input_names, output_names=policy.output_names)


@pytest.mark.parametrize("horizon", [1, 8])
def test_saliency_of_a_disconnected_input_is_zero(horizon):
    torch.manual_seed(2)
    policy = _with_input_cut(
        from_ncps(CfC(4, NCP(5, 4, 2, 3, 2, 3, 2, seed=3)), dtype="float64"), 2
    )
    saliency = input_saliency(policy, record_sequences(policy, _random_sequences(4)), horizon, 30)
    assert saliency.points == 30
    assert np.abs(saliency.normalized[:, 2]).max() < 1e-9
    assert saliency.normalized[:, [0, 1, 3]].min() > 1e-4
    assert np.all(np.abs(saliency.signed) <= saliency.normalized + 1e-12)


def test_saliency_refuses_windows_longer_than_episodes():
    torch.manual_seed(2)
    policy = from_ncps(CfC(4, NCP(5, 4, 2, 3, 2, 3, 2, seed=3)))
    recording = record_sequences(policy, _random_sequences(4, steps=10))
    with pytest.raises(ExplainError, match="no window of 11 steps"):
        input_saliency(policy, recording, 11)


@pytest.mark.parametrize("explained", case_ids(), indirect=True)
def test_synapses_are_the_wirings_with_learned_signs(explained):
    policy = explained.policy
    edges = synapses(policy)
    wiring = policy.wiring
    assert len(edges) == np.count_nonzero(wiring.adjacency) + np.count_nonzero(
        wiring.sensory_adjacency
    )
    assert all(e.sign in (-1, 1) and e.strength >= 0 for e in edges)
    assert {e.source for e in edges} >= set(policy.input_names)
    if policy.kind == "ltc":
        erev = policy.network.params()["rnn_cell.sensory_erev"]
        sensory = [e for e in edges if e.source in policy.input_names]
        index = {name: i for i, name in enumerate(policy.input_names)}
        ids = dict(zip(policy.neuron_names, policy.neuron_ids, strict=True))
        assert all(e.sign == np.sign(erev[index[e.source], ids[e.target]]) for e in sensory)


@pytest.mark.parametrize("explained", case_ids()[:1], indirect=True)
def test_replay_reproduces_the_closed_loop_commands(explained):
    """Replaying a simulated rollout gives the network steps the controller took: policy output
    + g(q), clamped to the effort limits, is the torque the simulator applied."""
    robot = load_robot_description(explained.robot)
    gravity = PinocchioDynamics(robot).gravity
    recording = record_policy(explained.policy, explained.trajectories)
    applied = np.concatenate([t.info["applied_tau"] for t in explained.trajectories])
    q = np.concatenate([t.q for t in explained.trajectories])
    commands = recording.outputs + np.array([gravity(x) for x in q])
    limit = robot.limits.effort
    np.testing.assert_allclose(np.clip(commands, -limit, limit), applied, atol=1e-9)


def test_rollouts_the_policy_cannot_read_are_refused(tmp_path):
    from explain_cases import generated_robot_policy

    from ltc_control.runtime import load_policy
    from ltc_control.sim import collect_rollouts

    policy = load_policy(generated_robot_policy("panda", "cfc19", tmp_path / "p.npz"))
    pendulum = collect_rollouts(load_robot_description("double_pendulum"), 1, 0.2)
    with pytest.raises(ExplainError, match="cannot read this rollout"):
        record_policy(policy, pendulum)
    with pytest.raises(ExplainError, match="no trajectories"):
        record_policy(policy, [])


@pytest.mark.parametrize(
    ("module", "same_as"),
    [
        (lambda: CfC(4, FullyConnected(2, 2)), "inputs"),  # every neuron a motor neuron
        (lambda: CfC(4, 6, proj_size=2), "inputs+neurons"),  # unwired: no motor group
    ],
    ids=["all_to_all", "unwired"],
)
def test_a_feature_set_repeating_another_is_left_out_with_the_reason(module, same_as):
    torch.manual_seed(4)
    policy = from_ncps(module(), dtype="float64")
    recording = record_sequences(policy, _random_sequences(4))
    kept, omitted = distinct_feature_sets(recording)
    assert "inputs+upstream" not in kept and set(omitted) == {"inputs+upstream"}
    assert omitted["inputs+upstream"].startswith(f"same features as '{same_as}'")


def test_rules_state_their_held_out_r2_and_say_when_they_do_not_describe_the_policy():
    torch.manual_seed(5)
    policy = from_ncps(CfC(4, NCP(5, 4, 2, 3, 2, 3, 2, seed=3)), dtype="float64")
    recording = record_sequences(policy, _random_sequences(4, episodes=4))
    split = held_out_split(recording)
    rules = tree_rules(recording, split, "inputs", 2, {"in_0": "rad", "out_0": "N*m"})
    (row,) = tree_fidelity(recording, split, (2,), ("inputs",))
    for output, r2 in zip(policy.output_names, row.r2_test, strict=True):
        assert (
            f"# {output} (depth 2, features: inputs): held-out R² {r2:.2f}, {verdict(r2)}" in rules
        )
    assert " rad\n" in rules and "] N*m\n" in rules
    assert "NOT describe" in verdict(-0.02) and "well" in verdict(0.95)
