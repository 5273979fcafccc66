"""`ltc-control export MODEL [OUTPUT.onnx]`: one network step as an ONNX graph, checked against
the numpy runtime with onnxruntime (100 steps, irregular dt; `onnx_export.ExportCheck`)."""

from __future__ import annotations

import argparse

from ltc_control.cli.arguments import existing_file, new_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=existing_file, help="policy model file (.npz)")
    parser.add_argument(
        "output", type=new_file, nargs="?", help="ONNX file to write (default: MODEL.onnx)"
    )
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), help="graph precision (default: the model's)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime check")


def run(args: argparse.Namespace) -> int:
    from ltc_control.edge.onnx_export import check_export, export_onnx
    from ltc_control.runtime import load_policy

    output = args.output or args.model.with_suffix(".onnx")
    policy = load_policy(args.model)
    export_onnx(policy, output, args.dtype)
    print(
        f"[export] {policy.model_id} ({policy.kind}, {args.dtype or policy.dtype.name}) -> {output}"
    )
    if args.no_check:
        return 0
    check = check_export(policy)
    print(
        "[export] onnxruntime vs numpy runtime, 100 irregular steps, model space: "
        f"float64 {check.exact:.1e}, {check.dtype} {check.deployed:.1e} "
        f"({'ok' if check.ok else 'MISMATCH'})"
    )
    return 0 if check.ok else 1
