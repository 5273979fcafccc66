"""Export one step of a liquid policy (LTC or CfC) as an ONNX graph, built directly from its
model-file arrays with `onnx.helper` (no torch needed; the graph is what the robot runs).

Why built by hand rather than through torch.onnx: the deployed artefact is the model file, not the
training module, so the export reads exactly what the robot loads; the export machine needs no
torch; and every equation is visible as plain ONNX operators (LTC's semi-implicit solver appears
unrolled, `ode_unfolds` fused Euler steps, not hidden in a traced loop).

Graph contract (opset 17, IR version 8, the policy's dtype, batch dimension "batch"):

    inputs        (batch, n_in)   raw input units (policy.input_units), normalized inside
    state         (batch, units)  hidden state, model space, same layout as LiquidPolicy.state
    elapsed       (batch, 1)      seconds since the previous step, > 0
 -> outputs       (batch, n_out)  raw output units (policy.output_units)
    next_state    (batch, units)

so one call equals `LiquidPolicy.step(x, dt)` (the state is carried by the caller). Metadata
properties carry model_id, kind, input/output names and units (JSON lists) and state_size.
`check_export(policy)` verifies an export with onnxruntime (see `ExportCheck`).
Supported: LTC (any wiring, affine/linear/none mappings, implicit or explicit constraints) and CfC
(default/pure/no_gate, wired or unwired with backbone, optional output projection). Mixed memory
raises `UnsupportedNetworkError`.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ltc_control.runtime import LiquidPolicy, load_policy
from ltc_control.runtime.paper_form import (
    CfCLayer,
    UnsupportedNetworkError,
    cfc_layers,
    check_supported,
    ltc_parameters,
    with_dtype,
)

OPSET = 17
IR_VERSION = 8
EXACT_TOLERANCE = 1e-5
FLOAT32_TOLERANCE = 1e-4
INPUTS, STATE, ELAPSED = "inputs", "state", "elapsed"
OUTPUTS, NEXT_STATE = "outputs", "next_state"
_TENSOR_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}
_LECUN_SCALE, _LECUN_SLOPE = 1.7159, 0.666


class _GraphBuilder:
    """Accumulates nodes and constant initializers; every op returns its output's name."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: np.ndarray | float, hint: str = "c", dtype: object = None) -> str:
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attributes) -> str:
        output = output or self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attributes))
        return output

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, hint: str) -> str:
        """x @ weight.T + bias, weight (out, in) as torch.nn.Linear stores it."""
        product = self.op("MatMul", x, self.const(weight.T, f"{hint}_weight"))
        return self.op("Add", product, self.const(bias, f"{hint}_bias"))

    def columns(self, x: str, start: int, stop: int) -> str:
        def index(value: int) -> str:
            return self.const([value], "index", np.int64)

        return self.op("Slice", x, index(start), index(stop), index(1))


def export_onnx(policy: LiquidPolicy | str | Path, path: str | Path, dtype: object = None) -> Path:
    """Write one step of `policy` (a LiquidPolicy or a model file path) to `path` (.onnx), in
    the policy's dtype or in `dtype` ("float32"/"float64")."""
    if not isinstance(policy, LiquidPolicy):
        policy = load_policy(policy)
    check_supported(policy)
    if dtype is not None and np.dtype(dtype) != policy.dtype:
        policy = with_dtype(policy, dtype)
    graph = _GraphBuilder(policy.dtype)
    norm = policy.normalization
    z = graph.op(
        "Div",
        graph.op("Sub", INPUTS, graph.const(norm.input_mean, "input_mean")),
        graph.const(norm.input_std, "input_std"),
    )
    if policy.kind == "ltc":
        y, next_state = _ltc_step(graph, policy, z)
    else:
        y, next_state = _cfc_step(graph, policy, z)
    graph.op("Identity", next_state, output=NEXT_STATE)
    scaled = graph.op("Mul", y, graph.const(norm.output_std, "output_std"))
    graph.op("Add", scaled, graph.const(norm.output_mean, "output_mean"), output=OUTPUTS)
    model = _model(graph, policy)
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, path)
    return path


def _model(graph: _GraphBuilder, policy: LiquidPolicy) -> onnx.ModelProto:
    element = _TENSOR_TYPES[policy.dtype]
    n_in, n_out, units = (
        policy.network.input_size,
        policy.network.output_size,
        policy.network.state_size,
    )

    def tensor(name: str, width: int) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, element, ["batch", width])

    onnx_graph = helper.make_graph(
        graph.nodes,
        f"{policy.kind}_step",
        [tensor(INPUTS, n_in), tensor(STATE, units), tensor(ELAPSED, 1)],
        [tensor(OUTPUTS, n_out), tensor(NEXT_STATE, units)],
        graph.initializers,
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="ltc_control.edge",
        doc_string=f"one step of liquid policy {policy.model_id}; see ltc_control.edge.onnx_export",
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(
        model,
        {
            "model_id": policy.model_id,
            "kind": policy.kind,
            "input_names": json.dumps(policy.input_names),
            "input_units": json.dumps(policy.input_units),
            "output_names": json.dumps(policy.output_names),
            "output_units": json.dumps(policy.output_units),
            "state_size": str(units),
        },
    )
    return model


@dataclass(frozen=True)
class ExportCheck:
    """Largest model-space differences, onnxruntime against the numpy runtime, over `steps`
    steps of irregular dt (`onnx_runner.max_difference`):

    exact     float64 graph vs float64 runtime: the maths, to EXACT_TOLERANCE;
    deployed  the graph in the model's own dtype vs the runtime in that dtype. For a float32
              model both sides round differently in float32; over 100 recurrent steps that is
              ~1e-5 for the shipped policies (as large as the float32 runtime's own distance
              from float64), so the bound is FLOAT32_TOLERANCE.
    """

    dtype: str
    exact: float
    deployed: float

    @property
    def ok(self) -> bool:
        bound = FLOAT32_TOLERANCE if self.dtype == "float32" else EXACT_TOLERANCE
        return self.exact < EXACT_TOLERANCE and self.deployed < bound


def check_export(policy: LiquidPolicy, steps: int = 100, seed: int = 0) -> ExportCheck:
    """Export `policy` twice (float64, own dtype) to a temporary folder and compare each with
    the numpy runtime in onnxruntime."""
    from ltc_control.edge.onnx_runner import OnnxPolicy, max_difference

    differences = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, reference in (("exact", with_dtype(policy, np.float64)), ("deployed", policy)):
            runner = OnnxPolicy(export_onnx(reference, Path(folder) / f"{name}.onnx"))
            differences[name] = max_difference(reference, runner, steps=steps, seed=seed)
    return ExportCheck(policy.dtype.name, **differences)


# --- LTC -------------------------------------------------------------------------------------
def _ltc_step(graph: _GraphBuilder, policy: LiquidPolicy, z: str) -> tuple[str, str]:
    """ncps LTCCell: input map, sensory synapses once, then `ode_unfolds` fused semi-implicit
    Euler steps v <- (cm_t v + gleak vleak + sum w s erev) / (cm_t + gleak + sum w s + eps)."""
    p = ltc_parameters(policy)
    unfolds = int(p["ode_unfolds"])
    mapped = graph.op(
        "Add", graph.op("Mul", z, graph.const(p["input_w"], "input_w")), graph.const(p["input_b"])
    )
    sensory_num, sensory_den = _synapse_currents(graph, mapped, p, "sensory_")
    step_dt = graph.op("Div", ELAPSED, graph.const(float(unfolds), "ode_unfolds"))
    cm_t = graph.op("Div", graph.const(p["cm"], "cm"), step_dt)
    leak_num = graph.const(p["gleak"] * p["vleak"], "gleak_vleak")
    gleak = graph.const(p["gleak"], "gleak")
    epsilon = graph.const(p["epsilon"], "epsilon")
    v = STATE
    for _ in range(unfolds):
        w_num, w_den = _synapse_currents(graph, v, p, "")
        numerator = graph.op("Add", graph.op("Mul", cm_t, v), leak_num)
        numerator = graph.op("Add", graph.op("Add", numerator, w_num), sensory_num)
        denominator = graph.op("Add", graph.op("Add", cm_t, gleak), w_den)
        denominator = graph.op("Add", denominator, sensory_den)
        v = graph.op("Div", numerator, graph.op("Add", denominator, epsilon))
    motor = graph.columns(v, 0, policy.network.output_size)
    y = graph.op("Mul", motor, graph.const(p["output_w"], "output_w"))
    return graph.op("Add", y, graph.const(p["output_b"], "output_b")), v


def _synapse_currents(
    graph: _GraphBuilder, pre: str, p: dict[str, np.ndarray], prefix: str
) -> tuple[str, str]:
    """(sum_pre w s erev, sum_pre w s) per postsynaptic neuron, s = sigmoid(sigma (v_pre - mu))."""
    expanded = graph.op("Unsqueeze", pre, graph.const([2], "axis", np.int64))  # (B, pre, 1)
    shifted = graph.op("Sub", expanded, graph.const(p[f"{prefix}mu"], f"{prefix}mu"))
    activation = graph.op(
        "Sigmoid", graph.op("Mul", shifted, graph.const(p[f"{prefix}sigma"], f"{prefix}sigma"))
    )
    weighted = graph.op("Mul", activation, graph.const(p[f"{prefix}w"], f"{prefix}w"))
    reversal = graph.op("Mul", weighted, graph.const(p[f"{prefix}erev"], f"{prefix}erev"))
    axis = graph.const([1], "axis", np.int64)
    return (
        graph.op("ReduceSum", reversal, axis, keepdims=0),
        graph.op("ReduceSum", weighted, axis, keepdims=0),
    )


# --- CfC -------------------------------------------------------------------------------------
def _cfc_step(graph: _GraphBuilder, policy: LiquidPolicy, z: str) -> tuple[str, str]:
    """Each layer reads [its input, its old state]; the state is the layers' new states in order;
    the output is the last layer's new state (through the projection `fc` if there is one)."""
    new_states: list[str] = []
    for index, layer in enumerate(cfc_layers(policy)):
        source = z if layer.source == "inputs" else new_states[int(layer.source)]
        own = graph.columns(STATE, layer.state.start, layer.state.stop)
        x = graph.op("Concat", source, own, axis=1)
        new_states.append(_cfc_layer(graph, layer, x, f"layer{index}"))
    state = new_states[0] if len(new_states) == 1 else graph.op("Concat", *new_states, axis=1)
    y = new_states[-1]
    params = policy.network.params()
    if "fc.weight" in params:
        y = graph.linear(y, params["fc.weight"], params["fc.bias"], "fc")
    return y, state


def _cfc_layer(graph: _GraphBuilder, layer: CfCLayer, x: str, hint: str) -> str:
    """ncps CfCCell: default h' = ff1 (1 - t) + t ff2, no_gate h' = ff1 + t ff2 with
    t = sigmoid(time_a dt + time_b); pure h' = A - A exp(-dt (|w_tau| + |ff1|)) ff1."""
    for k, (weight, bias) in enumerate(layer.backbone):
        x = _activation(graph, layer.activation, graph.linear(x, weight, bias, f"{hint}_bb{k}"))
    heads = {name: graph.linear(x, w, b, f"{hint}_{name}") for name, (w, b) in layer.heads.items()}
    if layer.mode == "pure":
        a = graph.const(layer.A, f"{hint}_A")
        rate = graph.op(
            "Add",
            graph.const(np.abs(layer.w_tau), f"{hint}_abs_w_tau"),
            graph.op("Abs", heads["ff1"]),
        )
        decay = graph.op("Exp", graph.op("Neg", graph.op("Mul", ELAPSED, rate)))
        return graph.op("Sub", a, graph.op("Mul", graph.op("Mul", a, decay), heads["ff1"]))
    ff1, ff2 = graph.op("Tanh", heads["ff1"]), graph.op("Tanh", heads["ff2"])
    gate = graph.op(
        "Sigmoid", graph.op("Add", graph.op("Mul", heads["time_a"], ELAPSED), heads["time_b"])
    )
    if layer.mode == "no_gate":
        return graph.op("Add", ff1, graph.op("Mul", gate, ff2))
    one_minus = graph.op("Sub", graph.const(1.0, "one"), gate)
    return graph.op("Add", graph.op("Mul", ff1, one_minus), graph.op("Mul", gate, ff2))


def _activation(graph: _GraphBuilder, name: str, x: str) -> str:
    """The backbone activations ncps offers (ltc_control.runtime.activations)."""
    if name == "lecun_tanh":
        inner = graph.op("Tanh", graph.op("Mul", x, graph.const(_LECUN_SLOPE)))
        return graph.op("Mul", inner, graph.const(_LECUN_SCALE))
    if name == "tanh":
        return graph.op("Tanh", x)
    if name == "relu":
        return graph.op("Relu", x)
    if name == "silu":
        return graph.op("Mul", x, graph.op("Sigmoid", x))
    if name == "gelu":  # exact erf form, torch.nn.GELU()'s default
        erf = graph.op("Erf", graph.op("Div", x, graph.const(np.sqrt(2.0))))
        half_x = graph.op("Mul", x, graph.const(0.5))
        return graph.op("Mul", half_x, graph.op("Add", erf, graph.const(1.0)))
    raise UnsupportedNetworkError(f"backbone activation {name!r} has no ONNX form here")
