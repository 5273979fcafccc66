"""`ltc-control export MODEL [OUTPUT.onnx]`: one network step as an ONNX graph, checked against
the numpy runtime with onnxruntime (100 steps, irregular dt) before it is reported as written."""

from __future__ import annotations

import argparse
from pathlib import Path

from ltc_control.errors import LtcControlError

TOLERANCE = 1e-5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="policy model file (.npz)")
    parser.add_argument("output", type=Path, nargs="?", help="ONNX file (default: MODEL.onnx)")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime check")


def run(args: argparse.Namespace) -> int:
    from ltc_control.edge.onnx_export import export_onnx
    from ltc_control.runtime import load_policy

    output = args.output or args.model.with_suffix(".onnx")
    try:
        policy = load_policy(args.model)
        export_onnx(policy, output)
    except LtcControlError as exc:
        print(f"ltc-control export: {exc}")
        return 2
    print(f"[export] {policy.model_id} ({policy.kind}) -> {output}")
    if args.no_check:
        return 0
    from ltc_control.edge.onnx_runner import OnnxPolicy, max_difference

    difference = max_difference(policy, OnnxPolicy(output), steps=100)
    verdict = "ok" if difference < TOLERANCE else "MISMATCH"
    print(
        f"[export] onnxruntime vs numpy runtime, 100 irregular steps: max diff {difference:.2e} ({verdict})"
    )
    return 0 if difference < TOLERANCE else 1
