"""``hf-ser export onnx MODEL_DIR OUT.onnx``: export a saved model to ONNX and check it against PyTorch
(``hf_ser.onnx_export``). Exit status 1 when the model cannot be exported or the parity check fails.

``hf-ser export transformers MODEL_DIR OUT_DIR``: the same model as a stock transformers class, loadable without
hf_ser and without remote code (``hf_ser.stock_export``); a head with no exact stock form is refused (status 2)."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["onnx", "transformers"], help="export format")
    parser.add_argument("model", help="saved model folder (runs/<name>/model)")
    parser.add_argument("out", help="output file, e.g. model.onnx (transformers: an output folder)")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: hf_ser.onnx_export.OPSET, 17)")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime-vs-PyTorch parity check")


def run(args: argparse.Namespace) -> int:
    if args.format == "transformers":
        return _run_transformers(args)
    from hf_ser.onnx_export import OPSET, ExportError, export_onnx

    opset = args.opset or OPSET
    try:
        report = export_onnx(args.model, args.out, opset=opset, check=not args.no_check)
    except ExportError as e:
        logger.error("%s", e)
        return 1
    print(f"wrote {args.out} (opset {opset}; input: raw 16 kHz waveform + attention_mask)")  # noqa: T201
    if report is not None:
        for name, diff in report.max_abs_diff.items():
            print(f"parity {name}: max |logit difference| {diff:.2e} (tolerance {report.tolerance:.0e})")  # noqa: T201
    return 0


def _run_transformers(args: argparse.Namespace) -> int:
    from hf_ser.stock_export import StockExportError, export_transformers

    try:
        report = export_transformers(args.model, args.out)
    except StockExportError as e:
        logger.error("%s", e)
        return 1
    print(f"wrote {args.out} ({report.class_name}: loads in transformers without hf_ser or remote code)")  # noqa: T201
    for name, diff in report.max_abs_diff.items():
        print(f"parity {name}: max |logit difference| {diff:.2e} (tolerance {report.tolerance:.0e})")  # noqa: T201
    return 0
