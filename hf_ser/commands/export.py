"""``hf-ser export onnx MODEL_DIR OUT.onnx``: export a saved model to ONNX and check it against PyTorch
(``hf_ser.onnx_export``). Exit status 1 when the model cannot be exported or the parity check fails."""

from __future__ import annotations

import argparse
import logging

from hf_ser.commands.flags import add_trust_remote_code_flag

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["onnx"], help="export format")
    parser.add_argument("model", help="saved model folder (runs/<name>/model)")
    parser.add_argument("out", help="output file, e.g. model.onnx")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: hf_ser.onnx_export.OPSET, 17)")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime-vs-PyTorch parity check")
    add_trust_remote_code_flag(parser)


def run(args: argparse.Namespace) -> int:
    from hf_ser.onnx_export import OPSET, ExportError, export_onnx

    opset = args.opset or OPSET
    try:
        report = export_onnx(args.model, args.out, opset=opset, check=not args.no_check, trust_remote_code=args.trust_remote_code)
    except ExportError as e:
        logger.error("%s", e)
        return 1
    print(f"wrote {args.out} (opset {opset}; input: raw 16 kHz waveform + attention_mask)")  # noqa: T201
    if report is not None:
        for name, diff in report.max_abs_diff.items():
            print(f"parity {name}: max |logit difference| {diff:.2e} (tolerance {report.tolerance:.0e})")  # noqa: T201
    return 0
