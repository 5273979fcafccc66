"""The ONNX export of one step matches the numpy runtime (onnxruntime, 100 steps, irregular dt)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from edge_cases import CELLS, generated_policy, shipped_cases
from hypothesis import given, settings
from hypothesis import strategies as st

from ltc_control.edge.onnx_export import check_export, export_onnx
from ltc_control.edge.onnx_runner import OnnxPolicy, OnnxPolicyError, max_difference
from ltc_control.runtime import load_policy
from ltc_control.runtime.paper_form import UnsupportedNetworkError

TOLERANCE = 1e-5


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_export_matches_runtime_over_100_irregular_steps(cell, dtype, tmp_path):
    policy = generated_policy(cell, tmp_path / "p.npz", dtype=dtype)
    runner = OnnxPolicy(export_onnx(policy, tmp_path / "p.onnx"))
    assert runner.dtype == np.dtype(dtype)
    assert max_difference(policy, runner, steps=100, batch=1) < TOLERANCE
    assert max_difference(policy, runner, steps=100, batch=3, seed=1) < TOLERANCE


@pytest.mark.parametrize("case_policy_file", shipped_cases(), indirect=True)
def test_shipped_policies_export_within_tolerance(case_policy_file, tmp_path):
    """The maths to 1e-5 in float64; the deployed float32 graph within float32's own error."""
    policy = load_policy(case_policy_file)
    runner = OnnxPolicy(export_onnx(case_policy_file, tmp_path / "p.onnx"))
    assert (runner.input_names, runner.output_names) == (policy.input_names, policy.output_names)
    assert runner.dtype == policy.dtype
    for seed in range(3):
        check = check_export(policy, steps=100, seed=seed)
        assert check.exact < TOLERANCE
        assert check.ok, check


def test_ltc_solver_is_unrolled_in_the_graph(tmp_path):
    """Each of the ode_unfolds semi-implicit steps is one Div of numerator by denominator."""
    policy = generated_policy("ltc", tmp_path / "p.npz")
    graph = onnx.load(export_onnx(policy, tmp_path / "p.onnx")).graph
    unfolds = policy.network.config()["cell"]["ode_unfolds"]
    solver_divs = [n for n in graph.node if n.op_type == "Div" and n.input[0].startswith("add")]
    assert len(solver_divs) == unfolds
    assert not any(n.op_type in ("Loop", "Scan") for n in graph.node)


def test_graph_carries_names_units_and_the_step_contract(tmp_path):
    policy = generated_policy("cfc", tmp_path / "p.npz")
    model = onnx.load(export_onnx(policy, tmp_path / "p.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["input_names"]) == policy.input_names
    assert meta["model_id"] == "generated-cfc"
    assert [i.name for i in model.graph.input] == ["inputs", "state", "elapsed"]
    assert [o.name for o in model.graph.output] == ["outputs", "next_state"]


def test_elapsed_time_changes_the_step(tmp_path):
    """dt is a real input: the same input and state with different dt give different outputs."""
    runner = OnnxPolicy(
        export_onnx(generated_policy("ltc", tmp_path / "p.npz"), tmp_path / "p.onnx")
    )
    x = np.linspace(-1, 1, 7)
    first = runner.step(x, 0.001)
    runner.reset()
    assert np.max(np.abs(runner.step(x, 0.1) - first)) > 1e-3


def test_runner_refuses_bad_inputs_and_keeps_its_state(tmp_path):
    runner = OnnxPolicy(
        export_onnx(generated_policy("cfc", tmp_path / "p.npz"), tmp_path / "p.onnx")
    )
    runner.step(np.ones(7), 0.01)
    state = runner.state
    for x, dt in (
        (np.ones(6), 0.01),
        (np.full(7, np.nan), 0.01),
        (np.ones(7), 0.0),
        (np.ones(7), [0.1, 0.2]),
    ):
        with pytest.raises(OnnxPolicyError):
            runner.step(x, dt)
    np.testing.assert_array_equal(runner.state, state)


def test_unusable_files_raise_typed_errors(tmp_path):
    with pytest.raises(OnnxPolicyError, match="does not exist"):
        OnnxPolicy(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(OnnxPolicyError):
        OnnxPolicy(tmp_path / "junk.onnx")


def test_mixed_memory_is_refused_by_name(tmp_path):
    import torch
    from ncps.torch import CfC
    from ncps.wirings import AutoNCP

    from ltc_control.training.convert import from_ncps

    torch.manual_seed(0)
    policy = from_ncps(CfC(4, AutoNCP(10, 2), mixed_memory=True))
    with pytest.raises(UnsupportedNetworkError, match="mixed memory"):
        export_onnx(policy, tmp_path / "p.onnx")


@pytest.fixture(scope="module")
def exported_pairs(tmp_path_factory):
    """(runtime policy, onnx runner) per cell, float64, built once for the property test."""
    folder = tmp_path_factory.mktemp("pairs")
    pairs = {}
    for cell in CELLS:
        policy = generated_policy(cell, folder / f"{cell}.npz")
        pairs[cell] = (policy, OnnxPolicy(export_onnx(policy, folder / f"{cell}.onnx")))
    return pairs


@settings(max_examples=40, deadline=None)
@given(
    cell=st.sampled_from(sorted(CELLS)),
    x=st.lists(st.floats(-10, 10), min_size=7, max_size=7),
    state_seed=st.integers(0, 2**16),
    dt=st.floats(1e-4, 2.0),
)
def test_any_single_step_matches_from_any_state(exported_pairs, cell, x, state_seed, dt):
    """From a random reachable state (a few random steps), one step with any input in ±10 std
    and any elapsed time from 0.1 ms to 2 s agrees to 1e-5 (model space)."""
    policy, runner = exported_pairs[cell]
    rng = np.random.default_rng(state_seed)
    policy.reset()
    runner.reset()
    for _ in range(3):
        warm, warm_dt = rng.normal(size=7), float(rng.uniform(0.001, 0.1))
        policy.step(warm, warm_dt)
        runner.step(warm, warm_dt)
    gap = (
        policy.step(np.array(x), dt) - runner.step(np.array(x), dt)
    ) / policy.normalization.output_std
    assert np.abs(gap).max() < TOLERANCE
    assert np.abs(policy.state - runner.state).max() < TOLERANCE
