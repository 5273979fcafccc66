"""LiquidPolicy: normalization, state handling, batch and sequence APIs, typed input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ncps_reference import make_ncps_module, make_ncps_wiring

from ltc_control.runtime import LiquidPolicy, Normalization, ParameterError, RuntimeInputError
from ltc_control.training.convert import from_ncps

NORMALIZATION = Normalization(
    input_mean=np.array([0.1, -0.2, 0.3, 1.0, -1.0]),
    input_std=np.array([2.0, 0.5, 1.0, 3.0, 0.25]),
    output_mean=np.array([1.0, -2.0, 0.5]),
    output_std=np.array([10.0, 0.1, 2.0]),
)


@pytest.fixture(scope="module", params=["ltc", "cfc"])
def policy(request) -> LiquidPolicy:
    module = make_ncps_module(request.param, make_ncps_wiring("auto_ncp"), mixed_memory=True)
    return from_ncps(
        module,
        input_names=["q0", "q1", "dq0", "dq1", "goal"],
        output_names=["tau0", "tau1", "tau2"],
        input_units=["rad", "rad", "rad/s", "rad/s", "m"],
        output_units=["N*m"] * 3,
        normalization=NORMALIZATION,
        model_id="test-policy",
    )


def test_step_is_the_normalized_network_between_affine_maps(policy):
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(20, 5))
    policy.reset()
    raw = [policy.step(x, 0.05) for x in xs]
    policy.reset()
    z = (xs - NORMALIZATION.input_mean) / NORMALIZATION.input_std
    model = [policy.step_normalized(row, 0.05) for row in z]
    expected = np.array(model) * NORMALIZATION.output_std + NORMALIZATION.output_mean
    np.testing.assert_allclose(raw, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kind", "units", "options"),
    [
        ("ltc", "ncp", {"input_mapping": "linear"}),
        ("ltc", "random", {"input_mapping": "none", "mixed_memory": True}),
        ("cfc", "fully_connected", {"mode": "pure", "mixed_memory": True}),
        ("cfc", 6, {"backbone_layers": 2, "backbone_units": 8, "mode": "no_gate"}),
        ("cfc", 6, {"backbone_layers": 0, "proj_size": 3}),
    ],
    ids=["ltc-linear", "ltc-none-mixed", "wired-pure-mixed", "backbone", "no-backbone-proj"],
)
def test_normalization_folded_into_the_network_is_the_same_function(kind, units, options):
    """step() runs the network with the input normalization folded into its first weights;
    it must equal normalizing by hand and running the model-space network."""
    wiring = make_ncps_wiring(units) if isinstance(units, str) else units
    module = make_ncps_module(kind, wiring, **options)
    n_out = from_ncps(module).network.output_size
    normalization = Normalization(
        NORMALIZATION.input_mean, NORMALIZATION.input_std, np.full(n_out, 0.5), np.full(n_out, 2.0)
    )
    policy = from_ncps(module, normalization=normalization)
    assert policy._raw_network is not policy.network
    xs = np.random.default_rng(3).normal(size=(40, 5)) * 3.0
    raw = policy.run_sequence(xs, 0.05)
    policy.reset()
    z = (xs - normalization.input_mean) / normalization.input_std
    model = np.array([policy.step_normalized(row, 0.05) for row in z])
    np.testing.assert_allclose(raw, model * 2.0 + 0.5, rtol=0, atol=1e-11)


def test_state_is_kept_between_steps_and_reset_zeroes_it(policy):
    policy.reset()
    x = np.ones(5)
    first = policy.step(x, 0.1)
    assert policy.state.shape == (1, policy.network.state_size)
    assert np.abs(policy.state).sum() > 0
    assert policy.memory_state is not None
    second = policy.step(x, 0.1)
    assert not np.allclose(first, second)  # same input, different state -> different output
    policy.reset()
    assert not policy.state.any() and not policy.memory_state.any()
    np.testing.assert_array_equal(policy.step(x, 0.1), first)


def test_state_property_is_a_copy(policy):
    policy.reset()
    policy.state[:] = 5.0
    assert not policy.state.any()


def test_batch_with_per_sample_dt_equals_separate_single_runs(policy):
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(30, 4, 5))
    dts = rng.uniform(0.01, 0.3, size=(30, 4))
    policy.reset(batch_size=4)
    batched = policy.run_sequence(xs, dts)
    assert batched.shape == (30, 4, 3)
    for b in range(4):
        policy.reset()
        single = policy.run_sequence(xs[:, b], dts[:, b])
        np.testing.assert_allclose(batched[:, b], single, rtol=0, atol=1e-12)


def test_run_sequence_equals_a_step_loop_and_continues_the_state(policy):
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(15, 5))
    policy.reset()
    policy.step(xs[0], 0.1)
    sequence = policy.run_sequence(xs[1:], 0.1)
    policy.reset()
    policy.step(xs[0], 0.1)
    loop = np.array([policy.step(x, 0.1) for x in xs[1:]])
    np.testing.assert_array_equal(sequence, loop)


def test_structure_is_inspectable(policy):
    assert policy.model_id == "test-policy"
    assert policy.input_units[2] == "rad/s" and policy.output_units == ["N*m"] * 3
    assert policy.wiring.groups["motor"] == [0, 1, 2]
    groups = policy.neuron_groups
    assert len(groups) == len(policy.neuron_names) == policy.network.state_size
    assert set(groups) == {"inter", "command", "motor"}
    for name, group, neuron in zip(policy.neuron_names, groups, policy.neuron_ids, strict=True):
        assert name == f"{group}_{neuron}" and policy.wiring.neuron_group(neuron) == group
    if policy.kind == "cfc":  # WiredCfC keeps its state layer by layer: inter, command, motor
        assert groups[0] == "inter" and groups[-1] == "motor"
    else:
        assert groups[0] == "motor" and groups[-1] == "inter"


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.ones(4), r"inputs have shape \(4,\); this policy takes \(5,\)"),
        (np.ones((2, 5)), r"inputs have shape \(2, 5\)"),
        (np.ones((1, 1, 5)), "inputs have shape"),
        ([1.0, 2.0, math.nan, 0.0, 0.0], r"NaN or Inf in \['dq0'\]"),
        ([1.0, math.inf, 0.0, 0.0, -math.inf], r"NaN or Inf in \['goal', 'q1'\]"),
        (["a", "b", "c", "d", "e"], "not numeric"),
    ],
)
def test_bad_inputs_raise_runtime_input_error_and_keep_the_state(policy, x, message):
    policy.reset()
    policy.step(np.ones(5), 0.1)
    before = policy.state
    with pytest.raises(RuntimeInputError, match=message):
        policy.step(x, 0.1)
    np.testing.assert_array_equal(policy.state, before)


@pytest.mark.parametrize(
    ("dt", "message"),
    [
        (0.0, "dt must be a finite time > 0 s, got 0.0"),
        (-0.01, "got -0.01"),
        (math.nan, "got nan"),
        (math.inf, "got inf"),
        (np.array([0.1, 0.1]), r"dt has shape \(2,\)"),
        ("fast", "dt is not numeric"),
        (None, "dt is not numeric|got nan"),
    ],
)
def test_bad_dt_raises_runtime_input_error(policy, dt, message):
    policy.reset()
    with pytest.raises(RuntimeInputError, match=message):
        policy.step(np.ones(5), dt)
    assert not policy.state.any()


@pytest.mark.parametrize("dt", [True, np.bool_(True), [True], "0.01", np.array(["0.01"])])
def test_dt_that_is_not_a_number_of_seconds_is_refused(policy, dt):
    """True would be 1 s and "0.01" a time only by accident: neither is a number of seconds."""
    policy.reset()
    with pytest.raises(RuntimeInputError, match="dt is not numeric"):
        policy.step(np.ones(5), dt)
    assert not policy.state.any()


@pytest.mark.parametrize("kind", ["ltc", "cfc", "cfc_pure"])
def test_per_sample_dt_of_shape_1_at_batch_1_is_the_scalar_dt(kind):
    """The docstring allows dt of shape (batch,); at batch 1 that is (1,), with x of shape (n,)."""
    options = {"mode": "pure"} if kind == "cfc_pure" else {}
    module = make_ncps_module(kind[:3], make_ncps_wiring("auto_ncp"), **options)
    policy = from_ncps(module)
    x = np.linspace(-1.0, 1.0, 5)
    scalar = policy.step(x, 0.01)
    policy.reset()
    np.testing.assert_array_equal(policy.step(x, [0.01]), scalar)
    policy.reset()
    np.testing.assert_array_equal(policy.step(x, np.array([0.01])), scalar)


@pytest.mark.parametrize(
    ("bad_step", "message"),
    [
        (lambda xs, dts: xs.__setitem__((3, 2), math.nan), r"step 3 of the sequence: .*NaN"),
        (lambda xs, dts: dts.__setitem__(4, -0.01), r"step 4 of the sequence: .*got -0.01"),
    ],
    ids=["nan_input", "negative_dt"],
)
def test_run_sequence_with_a_bad_step_leaves_the_state_untouched(policy, bad_step, message):
    rng = np.random.default_rng(3)
    xs, dts = rng.normal(size=(5, 5)), np.full(5, 0.05)
    bad_step(xs, dts)
    policy.reset()
    policy.step(np.ones(5), 0.1)
    before = policy.state
    with pytest.raises(RuntimeInputError, match=message):
        policy.run_sequence(xs, dts)
    np.testing.assert_array_equal(policy.state, before)


def test_bad_per_sample_dt_is_rejected(policy):
    policy.reset(batch_size=3)
    with pytest.raises(RuntimeInputError, match="every dt must be a finite time > 0"):
        policy.step(np.ones((3, 5)), np.array([0.1, 0.0, 0.1]))
    with pytest.raises(RuntimeInputError, match="reset"):
        policy.step(np.ones((2, 5)), 0.1)
    with pytest.raises(RuntimeInputError, match="batch_size must be >= 1"):
        policy.reset(batch_size=0)


def test_bad_sequences_are_rejected(policy):
    policy.reset()
    with pytest.raises(RuntimeInputError, match="10 inputs but 3 elapsed times"):
        policy.run_sequence(np.ones((10, 5)), [0.1, 0.1, 0.1])
    with pytest.raises(RuntimeInputError, match="xs must be"):
        policy.run_sequence(np.ones(5), 0.1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"input_std": np.array([1.0, 0.0, 1.0, 1.0, 1.0])}, "input_std must be > 0"),
        ({"output_mean": np.zeros(2)}, r"output_mean has shape \(2,\)"),
        ({"input_mean": np.full(5, np.nan)}, "input_mean contains NaN"),
    ],
)
def test_bad_normalization_is_rejected(policy, change, message):
    normalization = Normalization(**{**NORMALIZATION.__dict__, **change})
    with pytest.raises(ParameterError, match=message):
        LiquidPolicy(
            policy.network,
            input_names=policy.input_names,
            output_names=policy.output_names,
            normalization=normalization,
        )


def test_names_must_match_the_network(policy):
    with pytest.raises(ParameterError, match="input_names has 2 entries, the network has 5"):
        LiquidPolicy(policy.network, input_names=["a", "b"], output_names=policy.output_names)


@settings(max_examples=30, deadline=None)
@given(
    x=st.lists(st.floats(-1e3, 1e3), min_size=5, max_size=5),
    dt=st.floats(1e-4, 10.0),
)
def test_finite_inputs_always_give_finite_outputs(policy, x, dt):
    """For any finite input and positive dt the policy answers with finite numbers."""
    policy.reset()
    assert np.isfinite(policy.step(np.array(x), dt)).all()
