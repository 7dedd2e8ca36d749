"""``hf-ser predict MODEL PATH...``: label audio files or folders with a saved model (``hf_ser.predict`` over
``hf_ser.load``).

Without ``--output``, one line per file (``--json``: one JSON document) on stdout. With ``--output FILE.csv`` or
``.jsonl``, rows are written as files finish (``--resume`` continues a killed job). ``--segment vad`` finds the
speech in long recordings and classifies each segment. A progress bar and the summary line (files done, skipped
with reasons) go to stderr. Exit status 1 when no file could be labelled.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING

from hf_ser.commands.flags import add_asr_flag, add_calibration_flag, add_trust_remote_code_flag

if TYPE_CHECKING:
    from hf_ser.inference import Prediction

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", help="saved model folder (runs/<name>/model) or Hub repo id; with --backend onnx an `hf-ser export onnx` folder or .onnx file"
    )
    parser.add_argument("paths", nargs="+", help="audio files or folders (searched recursively)")
    parser.add_argument("--output", default=None, help="write rows to FILE.csv (one column per class) or FILE.jsonl as files finish")
    parser.add_argument("--resume", action="store_true", help="continue --output: skip the files already in it")
    parser.add_argument("--top-k", type=int, default=None, help="also give the K most probable classes per row")
    parser.add_argument(
        "--transcripts", default=None, metavar="CSV",
        help="speech + text models: a CSV with columns path,text (a transcript per audio file; files without one are "
        "predicted from speech alone, and each row's modality says which)",
    )
    add_asr_flag(parser, "each file (each speech segment with --segment vad)")
    parser.add_argument(
        "--segment", choices=["none", "vad"], default="none",
        help="vad: find speech with Silero VAD and classify each segment (long recordings; needs silero-vad)",
    )
    parser.add_argument("--min-s", type=float, default=1.0, help="with --segment vad: shortest segment kept (s)")
    parser.add_argument("--max-s", type=float, default=10.0, help="with --segment vad: longest segment; longer speech is split (s)")
    parser.add_argument("--plot", default=None, metavar="DIR", help="write an emotion timeline PNG per file into DIR")
    parser.add_argument("--json", action="store_true", help="without --output: print one JSON document instead of text lines")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument(
        "--backend", choices=["torch", "onnx"], default="torch", help="onnx: run an exported model with onnxruntime (no torch)"
    )
    parser.add_argument(
        "--min-confidence", type=float, default=None, metavar="P",
        help="answer 'abstain' where the top class probability is below P (probabilities still written)",
    )
    add_calibration_flag(parser)
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument(
        "--window-s", type=float, default=None, help="window length for long recordings (default: the model's training crop)"
    )
    add_trust_remote_code_flag(parser)


def format_text(r: Prediction) -> str:
    """One file as text lines: path, label, the three most probable classes, duration; the ASR's transcript
    (when the model ran one); then its segments."""
    if r.error:
        return f"{r.source}\tFAILED\t{r.error}\n"
    ranked = sorted(r.probabilities.items(), key=lambda t: -t[1])[:3]
    top = ", ".join(f"{lab} {p:.3f}" for lab, p in ranked) or ", ".join(f"{d} {v:.3f}" for d, v in r.dims.items())
    speech = f", speech {r.speech_s:.2f} s" if r.speech_s is not None else ""
    lines = [f"{r.source}\t{r.label}\t{top}\t({r.duration_s:.2f} s{speech})"]
    if r.transcript is not None:
        lines.append(f"  asr: {r.transcript}")
    for s in r.segments:
        score = f"{max(s.probabilities.values()):.3f}" if s.probabilities else ""
        lines.append(f"  [{s.start_s:8.2f} - {s.end_s:8.2f} s]\t{s.label}\t{score}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from hf_ser.errors import UserError
    from hf_ser.inference import VadSettings, load
    from hf_ser.predict import read_transcripts, run_batch

    if args.resume and not args.output:
        raise UserError("--resume continues an --output file: give --output FILE.csv or FILE.jsonl")
    if args.top_k is not None and args.top_k < 1:
        raise UserError(f"--top-k {args.top_k}: give a number of classes >= 1")
    vad = VadSettings(min_s=args.min_s, max_s=args.max_s) if args.segment == "vad" else None
    if vad is not None:
        from hf_ser.inference.vad import bundled_model

        bundled_model()  # fail before the work: without silero-vad, one line with the install command
    transcripts = read_transcripts(args.transcripts) if args.transcripts else None
    model = load(
        args.model, args.backend, device=args.device, trust_remote_code=args.trust_remote_code,
        window_s=args.window_s, batch_size=args.batch_size, calibrated=not args.no_calibration,
        min_confidence=args.min_confidence, asr=args.asr,
    )
    collected: list[Prediction] = []

    def show(result: Prediction) -> None:
        # stdout is this command's product (a table or JSON); diagnostics go to stderr.
        if args.output:
            return
        if args.json:
            collected.append(result)
        else:
            sys.stdout.write(format_text(result))
            sys.stdout.flush()

    summary = run_batch(
        model, args.paths, output=args.output, resume=args.resume, k=args.top_k, vad=vad, plot_dir=args.plot,
        progress=not args.no_progress, on_result=show, transcripts=transcripts,
    )
    if args.json and not args.output:
        sys.stdout.write(json.dumps([r.to_dict(args.top_k) for r in collected], indent=2) + "\n")
    print(summary.line(), file=sys.stderr)  # noqa: T201
    if summary.done + summary.resumed + len(summary.skipped) == 0:
        logger.error("no audio files found in %s", " ".join(map(str, args.paths)))
    return 0 if summary.done + summary.resumed > 0 else 1
