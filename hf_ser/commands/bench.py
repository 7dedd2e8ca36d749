"""``hf-ser bench``: time hf_ser's training path against the HF example baseline on the same work.

    hf-ser bench                 # the table (about 16 minutes on a busy 2-core CPU)
    hf-ser bench --json          # one JSON object instead (includes ``speedup`` and ``real_frame_fraction``)
    hf-ser bench infer           # inference: predict vs pipeline, ONNX int8 / fp32 / torch, the server under load
    hf-ser bench infer --quick   # the same on a tiny model and a few clips, in seconds
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Defaults live in benchmarks.trainer.runner.BenchSettings (importing it here would import torch for --help).
    parser.add_argument("what", nargs="?", choices=["train", "infer"], default="train",
                        help="train (default): the training path; infer: inference (benchmarks/infer.py)")
    parser.add_argument("--quick", action="store_true", help="infer: a tiny model and a few clips, in seconds")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    parser.add_argument("--model", help="a key of benchmarks.trainer.models.BENCH_MODELS (default: xls-r-300m on a GPU, xlsr-cpu on a CPU)")
    parser.add_argument("--layers", type=int, help="transformer layers (default: 24 on a GPU, 8 on a CPU)")
    parser.add_argument("--frozen-layers", type=int, help="frozen bottom layers (default: half)")
    parser.add_argument("--clips", type=int, help="benchmark clips, train + test")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--ablation-epochs", type=int)
    parser.add_argument("--no-ablations", action="store_true", help="skip the per-feature ablation runs")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int,
                        help="seed of the clips and of round 1's training; round r trains with seed + r - 1 (default 0)")
    parser.add_argument("--cache-budget-mb", type=float)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--work-dir", help="keep clips and stores here (default: a temporary folder)")
    parser.add_argument("--repeats", type=int,
                        help="interleaved rounds of both baselines and hf_ser, one training seed each; speed medians and ranges, "
                             "and test accuracy over the seeds with a paired 95%% interval (default 1)")


def _load_benchmarks() -> None:
    """Make the checkout's top-level ``benchmarks`` package importable (it is measurement tooling, not installed
    with hf_ser: it sits beside the ``hf_ser`` folder of a repository checkout)."""
    try:
        import benchmarks  # noqa: F401
        return
    except ImportError:
        pass
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "benchmarks" / "trainer").is_dir():
        from hf_ser.errors import UserError

        raise UserError("hf-ser bench runs from a repository checkout (its benchmarks/ folder is not installed with "
                        "hf_ser): clone the repository and run `make bench` there")
    sys.path.insert(0, str(checkout))


def settings_from(args: argparse.Namespace):
    """``BenchSettings`` from the command line: options not given keep BenchSettings' defaults."""
    _load_benchmarks()
    from benchmarks.trainer.models import BENCH_MODELS
    from benchmarks.trainer.runner import BenchSettings

    if args.model is not None and args.model not in BENCH_MODELS:
        from hf_ser.errors import UserError

        raise UserError(f"--model {args.model!r} is not a benchmark model; valid: {sorted(BENCH_MODELS)}")
    given = {
        "model": args.model,
        "num_layers": args.layers,
        "num_frozen_layers": args.frozen_layers,
        "clips": args.clips,
        "epochs": args.epochs,
        "ablation_epochs": args.ablation_epochs,
        "ablations": () if args.no_ablations else None,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "cache_budget_mb": args.cache_budget_mb,
        "work_dir": args.work_dir,
        "repeats": args.repeats,
    }
    return BenchSettings(**{k: v for k, v in given.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    if args.what == "infer":
        return _run_infer(args)
    import torch

    from benchmarks.trainer.report import format_report
    from benchmarks.trainer.runner import run_benchmark

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = settings_from(args)
    report = run_benchmark(settings)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
    sys.stdout.write((json.dumps(report) if args.json else format_report(report)) + "\n")
    return 0


def _run_infer(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    _load_benchmarks()
    from benchmarks.infer import QUICK, InferBenchSettings, format_infer_report, run_infer_bench

    if args.threads:
        torch.set_num_threads(args.threads)
    given = {"clips": args.clips, "layers": args.layers, "rounds": args.repeats, "seed": args.seed,
             "work_dir": args.work_dir, "batch_size": args.batch_size}
    base = QUICK if args.quick else InferBenchSettings()
    report = run_infer_bench(dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None}))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
    sys.stdout.write((json.dumps(report) if args.json else format_infer_report(report)) + "\n")
    return 0
