"""Numerical parity with ncps 1.0.1 for every cell/mode/wiring/memory/batch/timing combination.

Reference: the ncps module itself, run one sample at a time (batch 1), because ncps 1.0.1
broadcasts per-sample timespans across neurons when batch > 1. Tolerances: 1e-6 in float64,
1e-4 in float32 (max abs difference over >= 100 steps).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ncps_reference import (
    N_INPUTS,
    make_ncps_module,
    make_ncps_wiring,
    ncps_reference,
    runtime_outputs,
    torch,
)

from ltc_control.training.convert import from_ncps

STEPS = 100
WIRINGS = ("fully_connected", "ncp", "auto_ncp", "random")
CELLS = (("ltc", None), ("cfc", "default"), ("cfc", "pure"), ("cfc", "no_gate"))
TOLERANCE = {"float64": 1e-6, "float32": 1e-4}


def _sequence(batch: int, timing: str, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(batch, STEPS, N_INPUTS))
    if timing == "regular":
        return xs, None  # ncps' default elapsed time: 1.0 s per step
    return xs, rng.uniform(0.01, 0.8, size=(batch, STEPS))


def _module(kind: str, mode: str | None, wiring: str, mixed: bool):
    if kind == "ltc":
        return make_ncps_module("ltc", make_ncps_wiring(wiring), mixed_memory=mixed)
    return make_ncps_module("cfc", make_ncps_wiring(wiring), mixed_memory=mixed, mode=mode)


def _assert_parity(module, dtype: str, batch: int, timing: str, seed: int = 1) -> None:
    xs, dts = _sequence(batch, timing, seed)
    torch_dtype = getattr(torch, dtype)
    expected = ncps_reference(module, xs, dts, torch_dtype)
    policy = from_ncps(module, dtype=dtype)
    actual = runtime_outputs(policy, xs.astype(dtype), 1.0 if dts is None else dts)
    assert actual.dtype == np.dtype(dtype)
    assert actual.shape == expected.shape
    assert np.max(np.abs(actual - expected)) <= TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("batch", "timing"), list(itertools.product((1, 4), ("regular", "irregular")))
)
@pytest.mark.parametrize("mixed", [False, True], ids=["plain", "mixed_memory"])
@pytest.mark.parametrize("wiring", WIRINGS)
@pytest.mark.parametrize(("kind", "mode"), CELLS, ids=[f"{k}-{m}" for k, m in CELLS])
def test_wired_networks_match_ncps(kind, mode, wiring, mixed, batch, timing, dtype):
    _assert_parity(_module(kind, mode, wiring, mixed), dtype, batch, timing)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mixed", [False, True], ids=["plain", "mixed_memory"])
@pytest.mark.parametrize("mode", ["default", "pure", "no_gate"])
def test_unwired_cfc_with_backbone_matches_ncps(mode, mixed, dtype):
    module = make_ncps_module("cfc", 8, mode=mode, mixed_memory=mixed, backbone_units=16)
    _assert_parity(module, dtype, batch=4, timing="irregular")


@pytest.mark.parametrize("activation", ["lecun_tanh", "tanh", "relu", "gelu", "silu"])
@pytest.mark.parametrize("backbone_layers", [0, 1, 3])
def test_cfc_backbone_activations_and_depths_match_ncps(activation, backbone_layers):
    module = make_ncps_module(
        "cfc",
        6,
        activation=activation,
        backbone_units=12,
        backbone_layers=backbone_layers,
        backbone_dropout=0.2,  # dropout slots shift ncps' Sequential indices; eval ignores them
        proj_size=2,
    )
    _assert_parity(module, "float64", batch=2, timing="irregular")


@pytest.mark.parametrize(
    "options",
    [
        {"implicit_param_constraints": False},
        {"input_mapping": "linear", "output_mapping": "linear"},
        {"input_mapping": "none", "output_mapping": "none"},
        {"ode_unfolds": 1, "epsilon": 1e-3},
        {"ode_unfolds": 12},
    ],
    ids=["explicit", "linear", "none", "unfold1", "unfold12"],
)
def test_ltc_options_match_ncps(options):
    module = make_ncps_module("ltc", make_ncps_wiring("auto_ncp"), **options)
    _assert_parity(module, "float64", batch=4, timing="irregular")


def test_ltc_unwired_units_is_fully_connected_and_matches_ncps():
    _assert_parity(make_ncps_module("ltc", 6, mixed_memory=True), "float64", 1, "irregular")


def test_explicit_constraints_match_ncps_once_it_has_clipped():
    """Explicit mode: ncps clips w, sensory_w, cm, gleak at >= 0 after each optimizer step
    (`apply_weight_constraints`); a module converted after that clip, with values clipped to
    exactly 0, computes exactly what the runtime computes (before it, see test_convert)."""
    module = make_ncps_module("ltc", make_ncps_wiring("ncp"), implicit_param_constraints=False)
    with torch.no_grad():
        for name in ("w", "sensory_w", "cm", "gleak"):
            getattr(module.rnn_cell, name).sub_(0.5)
    module.rnn_cell.apply_weight_constraints()
    assert (module.rnn_cell.w == 0).any()
    policy = from_ncps(module)
    xs, dts = _sequence(2, "irregular", 3)
    expected = ncps_reference(module, xs, dts)
    np.testing.assert_allclose(runtime_outputs(policy, xs, dts), expected, atol=1e-6, rtol=0)


def test_ncps_mishandles_per_sample_timespans_but_runtime_matches_batch1_ncps():
    """ncps 1.0.1 multiplies time_a (batch, units) by timespans (batch,): with batch == units it
    runs but pairs sample j's dt with neuron j. Ours equals four separate batch-1 ncps runs."""
    module = make_ncps_module("cfc", 4, backbone_units=8)
    xs, dts = _sequence(4, "irregular", 5)
    correct = ncps_reference(module, xs, dts)
    with torch.no_grad():
        ncps_batched, _ = module(torch.as_tensor(xs), timespans=torch.as_tensor(dts[:, :, None]))
    assert np.max(np.abs(ncps_batched.numpy() - correct)) > 1e-3  # ncps' own bug
    ours = runtime_outputs(from_ncps(module), xs, dts)
    assert np.max(np.abs(ours - correct)) <= 1e-6


def test_ltc_per_sample_timespans_with_batch_fail_in_ncps_but_work_here():
    module = make_ncps_module("ltc", make_ncps_wiring("auto_ncp"))
    xs, dts = _sequence(4, "irregular", 6)
    with torch.no_grad(), pytest.raises(RuntimeError):
        module(torch.as_tensor(xs), timespans=torch.as_tensor(dts[:, :, None]))
    ours = runtime_outputs(from_ncps(module), xs, dts)
    assert np.max(np.abs(ours - ncps_reference(module, xs, dts))) <= 1e-6
