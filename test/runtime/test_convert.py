"""Converter: ncps module or state_dict -> runtime policy, carrying the actual wiring masks."""

from __future__ import annotations

import numpy as np
import pytest
from ncps_reference import (
    default_dtype,
    make_ncps_module,
    make_ncps_wiring,
    ncps_reference,
    ncps_torch,
    runtime_outputs,
    torch,
)

from ltc_control.runtime import NCP, ConversionError, load_policy
from ltc_control.training.convert import from_ncps, from_state_dict


def test_state_dict_plus_config_gives_the_same_policy_as_the_module(tmp_path):
    module = make_ncps_module(
        "cfc",
        6,
        mode="pure",
        mixed_memory=True,
        backbone_layers=2,
        backbone_units=10,
        backbone_dropout=0.1,
        proj_size=2,
    )
    direct = from_ncps(module)
    state_dict = {k: v.numpy() for k, v in module.state_dict().items()}
    rebuilt = from_state_dict(state_dict, direct.network.config(), path=tmp_path / "p.npz")
    xs = np.random.default_rng(0).normal(size=(2, 40, 5))
    expected = runtime_outputs(direct, xs, 0.3)
    np.testing.assert_array_equal(runtime_outputs(rebuilt, xs, 0.3), expected)
    np.testing.assert_array_equal(
        runtime_outputs(load_policy(tmp_path / "p.npz"), xs, 0.3), expected
    )


def test_ncp_wiring_without_seed_keeps_the_modules_adjacency():
    module = make_ncps_module("ltc", make_ncps_wiring("ncp"))
    policy = from_ncps(module)
    assert isinstance(policy.wiring, NCP) and policy.wiring.seed is None
    np.testing.assert_array_equal(policy.wiring.adjacency, module._wiring.adjacency_matrix)
    np.testing.assert_array_equal(
        policy.wiring.sensory_adjacency, module._wiring.sensory_adjacency_matrix
    )


def test_hand_edited_wiring_is_carried_over():
    """Masks come from the module, not from re-drawing the seed."""
    module = make_ncps_module("ltc", make_ncps_wiring("auto_ncp"))
    module._wiring.adjacency_matrix[:, :] = 0
    module._wiring.adjacency_matrix[5, 0] = -1
    with torch.no_grad():
        module.rnn_cell.sparsity_mask.copy_(torch.as_tensor(module._wiring.adjacency_matrix).abs())
    policy = from_ncps(module)
    assert policy.wiring.synapse_count == 1 and policy.wiring.adjacency[5, 0] == -1
    xs = np.random.default_rng(1).normal(size=(1, 30, 5))
    np.testing.assert_allclose(
        runtime_outputs(policy, xs, 1.0), ncps_reference(module, xs, None), atol=1e-9, rtol=0
    )


def test_mask_disagreeing_with_wiring_is_refused():
    module = make_ncps_module("ltc", make_ncps_wiring("auto_ncp"))
    with torch.no_grad():
        module.rnn_cell.sparsity_mask.fill_(1.0)
    with pytest.raises(ConversionError, match=r"rnn_cell.sparsity_mask in the state_dict differs"):
        from_ncps(module)


def test_wired_cfc_mask_disagreeing_with_wiring_is_refused():
    module = make_ncps_module("cfc", make_ncps_wiring("ncp"))
    with torch.no_grad():
        module.rnn_cell.layer_1.sparsity_mask.fill_(1.0)
    with pytest.raises(ConversionError, match=r"layer_1.sparsity_mask"):
        from_ncps(module)


def test_non_ncps_module_is_refused():
    with pytest.raises(ConversionError, match=r"expected ncps.torch.LTC or ncps.torch.CfC"):
        from_ncps(torch.nn.Linear(2, 2))


def test_state_dict_missing_weights_is_refused():
    module = make_ncps_module("cfc", make_ncps_wiring("random"))
    config = from_ncps(module).network.config()
    state_dict = dict(module.state_dict())
    del state_dict["rnn_cell.layer_0.time_a.weight"]
    with pytest.raises(ConversionError, match=r"layer 0: parameter 'time_a.weight' is missing"):
        from_state_dict(state_dict, config)


def test_approximate_gelu_is_refused():
    module = make_ncps_module("cfc", 4, activation="gelu")
    module.rnn_cell.backbone[1].approximate = "tanh"
    with pytest.raises(ConversionError, match="exact"):
        from_ncps(module)


def test_dtype_comes_from_the_weights_not_the_float32_masks():
    """ncps allocates sparsity masks in float32 even when the weights are float64."""
    torch.manual_seed(0)
    with default_dtype(torch.float64):
        module = ncps_torch.CfC(5, make_ncps_wiring("ncp"), batch_first=True).eval()
    masks = [v for k, v in module.state_dict().items() if k.endswith("sparsity_mask")]
    assert masks and all(m.dtype == torch.float32 for m in masks)  # the trap this test guards
    policy = from_ncps(module)
    assert policy.dtype == np.float64
    xs = np.random.default_rng(4).normal(size=(1, 30, 5))
    np.testing.assert_allclose(
        runtime_outputs(policy, xs, 1.0), ncps_reference(module, xs, None), atol=1e-12, rtol=0
    )


def test_explicit_constraints_with_negative_raw_values_are_refused_not_clipped():
    """ncps' forward uses the raw values in explicit mode; only apply_weight_constraints()
    clips them. Converting unclipped values by clipping would compute another network."""
    module = make_ncps_module("ltc", make_ncps_wiring("ncp"), implicit_param_constraints=False)
    with torch.no_grad():
        module.rnn_cell.cm.sub_(10.0)
    with pytest.raises(ConversionError, match=r"negative cm.*apply_weight_constraints\(\)"):
        from_ncps(module)


@pytest.mark.parametrize("side", ["input_mapping", "output_mapping"])
def test_ltc_mapping_none_is_ncps_no_mapping(side):
    module = make_ncps_module("ltc", make_ncps_wiring("auto_ncp"), **{side: None})
    policy = from_ncps(module)
    assert policy.network.cell.config()[side] == "none"
    xs = np.random.default_rng(5).normal(size=(1, 30, 5))
    np.testing.assert_allclose(
        runtime_outputs(policy, xs, 1.0), ncps_reference(module, xs, None), atol=1e-9, rtol=0
    )
