"""``hf-ser predict MODEL PATH...``: label audio files or folders with a saved model (``hf_ser.predict``).

Prints one line per file (``--json``: one JSON document) on stdout; diagnostics go to stderr. Exit status 1 when
no file could be labelled.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from hf_ser.commands.flags import add_trust_remote_code_flag

if TYPE_CHECKING:
    from hf_ser.predict import FilePrediction

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", help="saved model folder (runs/<name>/model) or Hub repo id; an .onnx file with --backend onnx"
    )
    parser.add_argument("paths", nargs="+", help="audio files or folders (searched recursively)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text lines")
    parser.add_argument(
        "--backend", choices=["torch", "onnx"], default="torch", help="onnx: run an exported model with onnxruntime"
    )
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument(
        "--window-s", type=float, default=None, help="window length for long recordings (default: the model's training crop)"
    )
    add_trust_remote_code_flag(parser)


def _format_text(results: list[FilePrediction]) -> str:
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.path}\tFAILED\t{r.error}")
            continue
        top = ", ".join(f"{lab} {p:.3f}" for lab, p in list(r.scores.items())[:3])
        lines.append(f"{r.path}\t{r.label}\t{top}\t({r.duration_s:.2f} s)")
        for s in r.segments:
            lines.append(f"  [{s.start_s:8.2f} - {s.end_s:8.2f} s]\t{s.label}\t{s.scores[s.label]:.3f}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from hf_ser.predict import predict_files

    results = predict_files(
        args.model,
        args.paths,
        batch_size=args.batch_size,
        device=args.device,
        window_s=args.window_s,
        trust_remote_code=args.trust_remote_code,
        backend=args.backend,
    )
    # stdout is this command's product (a table or JSON); diagnostics go to logging (stderr).
    if args.json:
        sys.stdout.write(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    else:
        sys.stdout.write(_format_text(results))
    failed = [r.path for r in results if r.error]
    ok = len(results) - len(failed)
    if failed:
        logger.warning("%d of %d files failed: %s", len(failed), len(results), ", ".join(failed))
    if not results:
        logger.error("no audio files found in %s", " ".join(map(str, args.paths)))
    return 0 if ok > 0 else 1
