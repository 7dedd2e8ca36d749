"""``hf-ser export onnx MODEL_DIR OUT [--quantize int8]``: export a saved model to ONNX and check it against
PyTorch (``hf_ser.onnx_export``). ``OUT`` is a folder (``model.onnx`` and its ``model.json`` settings inside) or an
``.onnx`` file. ``--quantize int8`` also writes ``model.int8.onnx`` and reports, against fp32 on audio clips
(``--check-audio``; default: the bundled CREMA-D demo clips, which the demo recipe does not train on), the label agreement, the largest probability difference and
the speed ratio. Exit status 1 when the model cannot be exported or the parity check fails.

``hf-ser export transformers MODEL_DIR OUT_DIR``: the same model as a stock transformers class, loadable without
hf_ser and without remote code (``hf_ser.stock_export``); a head with no exact stock form is refused (status 2)."""

from __future__ import annotations

import argparse
import logging

from hf_ser.commands.flags import add_trust_remote_code_flag

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["onnx", "transformers"], help="export format")
    parser.add_argument("model", help="saved model folder (runs/<name>/model)")
    parser.add_argument("out", help="output folder (model.onnx + model.json inside) or an .onnx file; transformers: a folder")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: hf_ser.onnx_export.OPSET, 17)")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime-vs-PyTorch parity check")
    add_trust_remote_code_flag(parser)
    parser.add_argument(
        "--quantize", choices=["int8"], default=None,
        help="also write an int8 graph (onnxruntime dynamic quantization) and compare it with fp32",
    )
    parser.add_argument(
        "--check-audio", nargs="+", default=None, metavar="PATH",
        help="audio files or folders the int8 graph is compared on (default: the bundled CREMA-D demo clips, held out from the demo recipe)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds of the int8 comparison (median)")


def run(args: argparse.Namespace) -> int:
    if args.format == "transformers":
        return _run_transformers(args)
    from hf_ser.onnx_export import OPSET, ExportError, compare_onnx, export_onnx, onnx_target, quantize_int8

    opset = args.opset or OPSET
    graph = onnx_target(args.out)
    try:
        report = export_onnx(args.model, graph, opset=opset, check=not args.no_check, trust_remote_code=args.trust_remote_code)
    except ExportError as e:
        logger.error("%s", e)
        return 1
    print(f"wrote {graph} (opset {opset}; input: raw 16 kHz waveform + attention_mask) and its settings JSON")  # noqa: T201
    if report is not None:
        for name, diff in report.max_abs_diff.items():
            print(f"parity {name}: max |logit difference| {diff:.2e} (tolerance {report.tolerance:.0e})")  # noqa: T201
    if args.quantize:
        from hf_ser.predict import collect_audio_paths

        int8 = quantize_int8(graph)
        clips = collect_audio_paths(args.check_audio or [_demo_clips()])
        named = " ".join(args.check_audio) if args.check_audio else "the bundled CREMA-D demo clips"
        try:
            q = compare_onnx(graph, int8, clips, rounds=args.rounds)
        except ExportError as e:
            logger.error("%s", e)
            return 1
        size = lambda p: p.stat().st_size / 2**20  # noqa: E731
        print(  # noqa: T201
            f"wrote {int8} ({size(int8):.1f} MB; fp32 {size(graph):.1f} MB). int8 vs fp32 on {q.clips} clips "
            f"({named}; {len(clips) - q.clips} unusable): labels agree {q.agreement:.1%}, max |probability difference| "
            f"{q.max_prob_diff:.4f}, speed x{q.speed_ratio:.2f} (fp32 {q.fp32_s:.2f} s, int8 {q.int8_s:.2f} s; "
            f"median of {q.rounds} interleaved rounds, 1 thread)"
        )
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


def _demo_clips() -> str:
    from hf_ser.demo_data import demo_root

    return str(demo_root("crema_d"))  # the demo recipe trains on the RAVDESS look-alike: these are held out
