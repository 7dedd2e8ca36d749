"""Compare every baseline with the wav2vec2 demo on the same speaker folds of the demo RAVDESS.

    python -m benchmarks.compare_baselines                      # all demo recipes, 3 speaker folds
    python -m benchmarks.compare_baselines --kinds issa_cnn logmel_cnn --out runs/compare/table.md

Each recipe (``recipes/demo/baseline_<kind>.yaml`` and ``recipes/demo/ravdess_tiny.yaml``) runs through the real
entry point, ``python -m hf_ser.train RECIPE key=value ...``, in a subprocess, with the same protocol and seed
overrides so every model sees the same train / validation / test speakers (checked from each run's
``metrics.json``). The script times each run (wall clock, including feature extraction and evaluation), reads
the test UA / WA / macro-F1 of every fold, and writes a Markdown table to stdout and to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

from hf_ser.metrics.over_folds import mean_std
from hf_ser.metrics.registry import CLASS_METRICS, METRICS

logger = logging.getLogger("compare_baselines")

REPO = Path(__file__).resolve().parents[1]
WAV2VEC2_RECIPE = "recipes/demo/ravdess_tiny.yaml"
BASELINE_KINDS = ("issa_cnn", "issa_mlp", "mfcc_rnn", "logmel_cnn", "logmel_bilstm")


def recipe_for(kind: str) -> str:
    """The demo recipe of a model kind (``wav2vec2`` is the main demo)."""
    return WAV2VEC2_RECIPE if kind == "wav2vec2" else f"recipes/demo/baseline_{kind}.yaml"


def fold_metrics(run_dir: Path) -> list[dict]:
    """Every fold's ``metrics.json`` under a run directory (``fold_k/`` for several folds, else the run itself)."""
    files = sorted(run_dir.glob("fold_*/metrics.json")) or sorted(run_dir.glob("metrics.json"))
    if not files:
        raise FileNotFoundError(f"no metrics.json under {run_dir}")
    return [json.loads(f.read_text()) for f in files]


def summarize(kind: str, folds: list[dict], seconds: float, split: str = "test") -> dict:
    """Mean and sample std over folds (``hf_ser.metrics.over_folds``) of the test metrics on every ``<split>/<corpus>`` result, plus the test speakers."""
    row: dict = {"kind": kind, "folds": len(folds), "seconds": seconds}
    for metric in CLASS_METRICS:
        values = [
            res[metric] for m in folds for key, res in m["results"].items()
            if key.startswith(f"{split}/") and res.get(metric) is not None
        ]
        row[metric] = mean_std(values)
    row["test_speakers"] = [tuple(m["protocol"]["test_speakers"]) for m in folds]
    return row


def markdown_table(rows: list[dict]) -> str:
    """Rows from ``summarize`` as a Markdown table (percentages, mean ± std over folds)."""
    lines = [
        "| model kind | folds | " + " | ".join(f"test {METRICS[m].label} %" for m in CLASS_METRICS) + " | training time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [f"{100 * r[m][0]:.1f} ± {100 * r[m][1]:.1f}" for m in CLASS_METRICS]
        lines.append(f"| {r['kind']} | {r['folds']} | {' | '.join(cells)} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def check_same_folds(rows: list[dict]) -> None:
    """Every run must have tested on the same speakers, fold by fold."""
    reference = rows[0]["test_speakers"]
    for r in rows[1:]:
        if r["test_speakers"] != reference:
            raise RuntimeError(f"{r['kind']} tested on {r['test_speakers']}, {rows[0]['kind']} on {reference}")


def run(kind: str, out_root: Path, overrides: list[str], module: str) -> dict:
    run_dir = out_root / kind
    # overwrite=true: a rerun of the comparison replaces its own earlier runs.
    cmd = [sys.executable, "-m", module, recipe_for(kind), f"train.output_dir={run_dir}", "overwrite=true", *overrides]
    logger.info("running %s", " ".join(cmd))
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True)
    return summarize(kind, fold_metrics(run_dir), time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=[*BASELINE_KINDS, "wav2vec2"], help="model kinds to run")
    parser.add_argument("--num-folds", type=int, default=3, help="speaker folds (the demo RAVDESS has 12 actors)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/compare_baselines/table.md", help="Markdown table file")
    parser.add_argument("--module", default="hf_ser.train", help="entry-point module (python -m MODULE)")
    parser.add_argument("overrides", nargs="*", help="extra key=value overrides for every run, e.g. train.epochs=5")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    # The same protocol, folds and seed for every model: the comparison is fold by fold.
    shared = [
        "data.protocol=speaker_kfold",
        f"data.protocol_options={{num_folds: {args.num_folds}}}",
        "folds=all",
        f"train.seed={args.seed}",
        "data.eval_corpora=[]",
        *args.overrides,
    ]
    rows = [run(kind, out.parent, shared, args.module) for kind in args.kinds]
    check_same_folds(rows)
    table = markdown_table(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")
    sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
