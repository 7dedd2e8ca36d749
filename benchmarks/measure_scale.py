"""How the data side's cost grows with the corpus: one synthetic manifest corpus, every phase in a fresh process.

Phases (each a new Python process, so peak memory is the phase's own; seconds exclude interpreter start-up):

* ``inspect``: ``hf-ser corpora inspect`` on a cold cache (headers, decode, skip report, fold report).
* ``load``: the corpus loader alone, cold (git-lfs check and header of every file).
* ``build``: ``prepare_corpora`` on a cold cache (load + decode into the store + save the loaded corpus).
* ``warm``: ``prepare_corpora`` again: the cache-hit start of every later run.
* ``rerun``: the first run after a store build: ``prepare_corpora`` with the train20 model's shortest input
  (another loaded-corpus entry) on a cache built without it (the build is not timed); ``header_reads`` counts
  the ``sf.info`` calls (0: the headers the build read are reused).
* ``folds``: ``make_folds`` (speaker_kfold, 5 folds) + ``split_fold`` + ``write_manifests`` for fold 0.
* ``overheads``: the fixed per-run costs beside them: data fingerprint, data report, run manifests.
* ``epoch``: one data-only training epoch of fold 0 (bucketed batches of up to ``--batch-audio-s`` seconds,
  collated, no model), audio-seconds per second.
* ``train20``: ``python -m hf_ser.train`` with a tiny model for 20 steps on the warm cache (warmed with the
  run's own loader options: the model's shortest input), at ``--batch-size`` (8). ``steps_s`` is the wall time from the first training
  forward to the 20th optimizer step, ``eval_s`` the time of the evaluation passes (from the first to the last
  forward of each run of evaluation forwards: batches and forwards); ``outside_s`` = total - steps - eval: the
  fixed start-up and shut-down around them. ``eval_windows`` / ``eval_batches`` / ``eval_audio_s`` count what
  the evaluation forwards scored (real audio, padding excluded), ``eval_audio_s_per_s`` = eval_audio_s / eval_s;
  ``cpu_s`` is the process's CPU time (robust to a busy machine, unlike wall time). ``anon_first_step_mb`` is
  ``RssAnon`` at the first training forward, ``anon_eval_peak_mb`` its peak inside the evaluation passes.

Every phase prints ``seconds``, the machine's 1-minute load average at its end, peak RSS (``VmHWM``) and peak ``RssAnon`` (sampled every 20 ms; the memory-mapped
store's pages are file-backed and not in it). ``--scan`` prints a table over several corpora with the growth
exponent ``log(t2/t1) / log(n2/n1)`` between consecutive sizes (1 = linear).

Usage:
    python -m benchmarks.make_scale_corpus /tmp/c1k --clips 1000
    python -m benchmarks.measure_scale /tmp/c1k [--phases warm,folds] [--dtype int16] [--json]
    python -m benchmarks.measure_scale --scan /tmp/c1k /tmp/c10k [--phases ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from hf_ser.evaluation.heap import status_kb

PHASES = ("inspect", "load", "build", "warm", "rerun", "folds", "overheads", "epoch", "train20")


class MemoryWatch:
    """Peak ``RssAnon`` of this process, sampled in a background thread; ``samples`` keeps ``(time, kB)``
    for the phases that ask where in the run memory grew (``anon_between``)."""

    def __init__(self, every_s: float = 0.02):
        self.peak_anon_kb = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.is_set():
            anon = status_kb("RssAnon")
            self.samples.append((time.perf_counter(), anon))
            self.peak_anon_kb = max(self.peak_anon_kb, anon)
            time.sleep(every_s)

    def anon_between(self, intervals: list[tuple[float, float]]) -> float:
        """Peak ``RssAnon`` MB over the samples that fall inside any of ``intervals`` (0 when none does)."""
        inside = [kb for t, kb in self.samples if any(a <= t <= b for a, b in intervals)]
        return max(inside, default=0) / 1024

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.peak_anon_kb = max(self.peak_anon_kb, status_kb("RssAnon"))
        return {"peak_rss_mb": status_kb("VmHWM") / 1024, "peak_rss_anon_mb": self.peak_anon_kb / 1024}


def _spec(corpus: str):
    from hf_ser.config import CorpusSpec

    return CorpusSpec(name="manifest", root=corpus)


TRAIN20_MODEL = {"backbone": "shape:tiny", "num_frozen_layers": 0}


def _prepare(corpus: str, cache: str, dtype: str, min_samples: int = 0):
    from hf_ser.data.prepare import prepare_corpora

    return prepare_corpora([_spec(corpus)], cache_dir=cache, progress=False, store_dtype=dtype, min_samples=min_samples)


def _train20_min_samples() -> int:
    """The loader option ``train.run`` passes (the model's shortest input): part of the loaded corpus's cache key."""
    from hf_ser.config import ModelConfig
    from hf_ser.model_kinds import min_input_samples

    return min_input_samples(ModelConfig(**TRAIN20_MODEL))


def _fold0(data, seed: int = 0):
    from hf_ser.splits import make_folds, split_fold

    folds = make_folds(data.dataset, "speaker_kfold", seed=seed, num_folds=5)
    return split_fold(data.dataset, folds[0], valid_fraction=0.2, seed=seed, speaker_independent=True)


def run_phase(phase: str, corpus: str, cache: str, dtype: str, batch_audio_s: float, batch_size: int = 8) -> dict:
    """Run one phase in this process and return its measurements."""
    import logging

    logging.disable(logging.WARNING)
    # Import everything first: the phases time the work, not the interpreter loading libraries.
    import torch  # noqa: F401

    import hf_ser.data.batching  # noqa: F401
    import hf_ser.data.corpus_report  # noqa: F401
    import hf_ser.data.prepare  # noqa: F401
    import hf_ser.reporting  # noqa: F401
    import hf_ser.splits  # noqa: F401

    work = Path(tempfile.mkdtemp(prefix="measure_scale_"))
    try:
        if phase == "train20":
            return _train20(corpus, cache, dtype, work, batch_size)
        setup = {}
        if phase == "rerun":
            import hf_ser.audio

            _prepare(corpus, str(work / "cache"), dtype)  # the store build (not timed)
            reads, real_info = [], hf_ser.audio.sf.info
            hf_ser.audio.sf.info = lambda path, *a, **k: reads.append(path) or real_info(path, *a, **k)
        if phase in ("folds", "overheads", "epoch"):
            data = _prepare(corpus, cache, dtype)
            if phase == "epoch":
                split = _fold0(data)
        watch, t0 = MemoryWatch(), time.perf_counter()
        if phase == "inspect":
            from hf_ser.data.corpus_report import inspect_corpus

            report = inspect_corpus("manifest", corpus, cache_root=work / "cache")
            setup["clips"] = report["clips"]
        elif phase == "load":
            from hf_ser.corpora import load_corpus

            setup["clips"] = len(load_corpus("manifest", corpus)[0])
        elif phase == "rerun":
            setup["clips"] = len(_prepare(corpus, str(work / "cache"), dtype, min_samples=_train20_min_samples()).dataset)
            setup["header_reads"] = len(reads)
        elif phase in ("build", "warm"):
            setup["clips"] = len(_prepare(corpus, str(work / "cache") if phase == "build" else cache, dtype).dataset)
        elif phase == "folds":
            from hf_ser.run_dir import write_manifests

            split = _fold0(data)
            write_manifests(data.dataset, split, work / "manifests")
            setup["clips"] = len(data.dataset)
        elif phase == "overheads":
            from hf_ser.run_dir import write_json

            write_json(work / "data_report.json", {"train": data.report()})
            setup["fingerprint"] = data.fingerprint()
            setup["clips"] = len(data.dataset)
        elif phase == "epoch":
            setup.update(_data_epoch(data, split, batch_audio_s))
        else:
            raise ValueError(f"unknown phase {phase!r}; phases: {PHASES}")
        seconds = time.perf_counter() - t0
        return {"phase": phase, "seconds": seconds, **watch.stop(), **setup, "load_1min": os.getloadavg()[0]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _data_epoch(data, split, batch_audio_s: float) -> dict:
    import torch

    from hf_ser.data.batching import BucketBatchSampler, ClipDataset, Collator

    train = split.train
    dataset = ClipDataset(lambda i: data.wave(train[i]), [0] * len(train), max_samples=20 * 16_000, seed=0)
    sampler = BucketBatchSampler([data.num_samples(i) for i in train], max_batch_samples=int(batch_audio_s * 16_000))
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=Collator())
    t0, real = time.perf_counter(), 0
    for batch in loader:
        real += int(batch["attention_mask"].sum())
    seconds = time.perf_counter() - t0
    audio_s = real / 16_000
    return {"clips": len(train), "audio_s": round(audio_s, 1), "audio_s_per_s": round(audio_s / seconds, 1),
            "real_frames": round(sampler.real_frame_fraction(0), 4)}


def _train20(corpus: str, cache: str, dtype: str, work: Path, batch_size: int) -> dict:
    import torch

    from hf_ser import train

    marks = {"first_train_forward": None, "optimizer_steps": [], "eval_s": 0.0, "eval_spans": [], "anon_first_step_kb": 0}
    depth = [0]  # nesting depth of module calls: only the outermost call of a forward counts
    segment = {"start": None, "last_end": None}  # the current run of evaluation forwards

    def close_segment() -> None:
        if segment["start"] is not None and segment["last_end"] is not None:
            marks["eval_s"] += segment["last_end"] - segment["start"]
            marks["eval_spans"].append((segment["start"], segment["last_end"]))
        segment["start"] = segment["last_end"] = None

    def pre(module, _args):
        if depth[0] == 0:
            now = time.perf_counter()
            if module.training:
                close_segment()
                if marks["first_train_forward"] is None:
                    marks["first_train_forward"] = now
                    marks["anon_first_step_kb"] = status_kb("RssAnon")
            elif segment["start"] is None:
                segment["start"] = now
        depth[0] += 1

    def post(module, _args, _out):
        depth[0] -= 1
        if depth[0] == 0 and not module.training:
            segment["last_end"] = time.perf_counter()

    torch.nn.modules.module.register_module_forward_pre_hook(pre)
    torch.nn.modules.module.register_module_forward_hook(post)
    import hf_ser.training.predictions

    scored = {"eval_batches": 0, "eval_windows": 0, "real_samples": 0, "padded_samples": 0}
    evaluation_forward = hf_ser.training.predictions.forward  # what ``predict_split`` calls for every evaluation batch

    def counting_forward(model, batch):
        scored["eval_batches"] += 1
        scored["eval_windows"] += len(batch["window"])
        scored["real_samples"] += int(batch["attention_mask"].sum())
        scored["padded_samples"] += batch["attention_mask"].numel()
        return evaluation_forward(model, batch)

    hf_ser.training.predictions.forward = counting_forward
    from torch.optim.optimizer import register_optimizer_step_post_hook

    register_optimizer_step_post_hook(
        lambda *_: marks["optimizer_steps"].append(time.perf_counter())
    )
    recipe = work / "recipe.yaml"
    recipe.write_text(
        "name: scale\ndata:\n"
        f"  corpora: [{{name: manifest, root: {json.dumps(corpus)}}}]\n"
        "  protocol: speaker_kfold\n  protocol_options: {num_folds: 5}\n"
        f"  cache_dir: {json.dumps(cache)}\n  store_dtype: {dtype}\n"
        f"model: {json.dumps(TRAIN20_MODEL)}\n"
        f"train: {{output_dir: {json.dumps(str(work / 'run'))}, max_steps: 20, batch_size: {batch_size}, log_every_n_steps: 10}}\n",
        encoding="utf-8",
    )
    watch, t0, cpu0 = MemoryWatch(), time.perf_counter(), time.process_time()
    train.main([str(recipe), "folds=0"])
    total, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    close_segment()
    steps = marks["optimizer_steps"]
    steps_s = steps[min(19, len(steps) - 1)] - marks["first_train_forward"]
    eval_audio_s = scored["real_samples"] / 16_000
    return {"phase": "train20", "seconds": total, "steps_s": steps_s, "eval_s": marks["eval_s"],
            "outside_s": total - steps_s - marks["eval_s"], "cpu_s": round(cpu_s, 1),
            "eval_batches": scored["eval_batches"], "eval_windows": scored["eval_windows"],
            "eval_audio_s": round(eval_audio_s, 1),
            "eval_audio_s_per_s": round(eval_audio_s / marks["eval_s"], 1) if marks["eval_s"] else 0.0,
            "eval_real_frames": round(scored["real_samples"] / max(1, scored["padded_samples"]), 4),
            "batch_size": batch_size, "anon_first_step_mb": round(marks["anon_first_step_kb"] / 1024),
            "anon_eval_peak_mb": round(watch.anon_between(marks["eval_spans"])),
            **watch.stop(), "load_1min": os.getloadavg()[0]}


def measure(
    corpus: str, phases: list[str], *, dtype: str, batch_audio_s: float, cache: str | None, batch_size: int = 8
) -> list[dict]:
    """Each phase in a fresh process; the cache used by warm/folds/epoch/train20 is built first when needed."""
    own_cache = cache is None
    cache = cache or tempfile.mkdtemp(prefix="measure_scale_cache_")
    try:
        if set(phases) & {"warm", "folds", "overheads", "epoch", "train20"}:
            _prepare(corpus, cache, dtype)  # the warm cache every later phase starts from
        if "train20" in phases:  # the run loads the corpus with its model's shortest input: its own cache entry
            _prepare(corpus, cache, dtype, min_samples=_train20_min_samples())
        results = []
        for phase in phases:
            cmd = [sys.executable, __file__, corpus, "--phase", phase, "--cache", cache, "--dtype", dtype,
                   "--batch-audio-s", str(batch_audio_s), "--batch-size", str(batch_size)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"phase {phase} on {corpus} failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        return results
    finally:
        if own_cache:
            shutil.rmtree(cache, ignore_errors=True)


def format_table(by_size: dict[int, list[dict]]) -> str:
    """Rows = phase, columns = seconds / peak RSS / RssAnon per corpus size, and the growth exponents."""
    sizes = sorted(by_size)
    head = ["phase"] + [f"{n} clips: s, RSS MB, anon MB" for n in sizes]
    head += [f"exp {a}->{b}" for a, b in zip(sizes, sizes[1:])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    phases = [r["phase"] for r in by_size[sizes[0]]]
    for phase in phases:
        rows = [next(r for r in by_size[n] if r["phase"] == phase) for n in sizes]
        cells = [phase] + [f"{r['seconds']:.1f}, {r['peak_rss_mb']:.0f}, {r['peak_rss_anon_mb']:.0f}" for r in rows]
        cells += [f"{_exponent(a['seconds'], b['seconds'], n1, n2):.2f}" for a, b, n1, n2 in zip(rows, rows[1:], sizes, sizes[1:])]
        lines.append("| " + " | ".join(cells) + " |")
        for key in ("header_reads", "outside_s", "steps_s", "eval_s", "eval_windows", "eval_audio_s_per_s",
                    "audio_s_per_s", "anon_first_step_mb", "anon_eval_peak_mb"):
            if key in rows[0]:
                extra = [f"{phase}.{key}"] + [f"{r[key]}" if isinstance(r[key], int) else f"{r[key]:.1f}" for r in rows]
                extra += [f"{_exponent(a[key], b[key], n1, n2):.2f}" for a, b, n1, n2 in zip(rows, rows[1:], sizes, sizes[1:])]
                lines.append("| " + " | ".join(extra) + " |")
    return "\n".join(lines)


def _exponent(t1: float, t2: float, n1: int, n2: int) -> float:
    return math.log(max(t2, 1e-3) / max(t1, 1e-3)) / math.log(n2 / n1)


def _clips(corpus: str) -> int:
    with open(Path(corpus) / "manifest.csv", encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", help="folders written by benchmarks/make_scale_corpus.py")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    parser.add_argument("--dtype", default="float32", choices=("float32", "int16"), help="audio store sample format")
    parser.add_argument("--batch-audio-s", type=float, default=40.0, help="padded audio per batch in the epoch phase")
    parser.add_argument("--batch-size", type=int, default=8, help="train.batch_size of the train20 phase (training and evaluation)")
    parser.add_argument("--cache", default=None, help="warm cache folder to use (default: a temporary one)")
    parser.add_argument("--scan", action="store_true", help="measure every corpus and print the scaling table")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--phase", help=argparse.SUPPRESS)  # internal: run one phase in this process
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.corpora[0], args.cache, args.dtype, args.batch_audio_s, args.batch_size)))
        return
    phases = [p for p in args.phases.split(",") if p]
    by_size = {}
    for corpus in args.corpora:
        n = _clips(corpus)
        by_size[n] = measure(corpus, phases, dtype=args.dtype, batch_audio_s=args.batch_audio_s, cache=args.cache,
                             batch_size=args.batch_size)
        if not args.scan:
            for r in by_size[n]:
                print(json.dumps({"clips": n, **r}) if args.json else
                      f"{n:>7} clips  {r['phase']:<10} {r['seconds']:8.2f} s  RSS {r['peak_rss_mb']:7.0f} MB  "
                      f"RssAnon {r['peak_rss_anon_mb']:7.0f} MB  "
                      + " ".join(f"{k}={v}" for k, v in r.items() if k not in ("phase", "seconds", "peak_rss_mb", "peak_rss_anon_mb")))
    if args.scan:
        print(json.dumps(by_size) if args.json else format_table(by_size))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
