"""GPU check: XLS-R-300M training throughput, MFU, peak memory, and what each speed feature is worth.

Run through ``benchmarks/gpu_check.sh`` (one command, under 8 minutes on one H100/H200). Two parts:

1. **features**: training steps of hf_ser's model at the exact XLS-R-300M shape (24 layers, hidden 1024, 12
   frozen under no-grad, bf16 autocast, fused AdamW) on synthetic audio generated on the device, in
   length-bucketed batches of IEMOCAP-like lengths (log-normal, median 3 s, 1-15 s; up to ``--batch-audio-s``
   padded seconds a batch). Variants that differ in one feature each: ``sdpa`` (the default kernel) vs
   ``eager`` attention; ``compile`` (torch.compile, static shapes on the padding ladder, compile time reported
   apart); ``cache`` (the frozen-output cache: epoch 1 fills it, epoch 2 reads it; ratio of their throughputs);
   ``finetune`` (no frozen layer, only the CNN frozen: the full fine-tuning a cached epoch is also compared with).
   Each prints audio-s/s, MFU = audio-s/s x F_train / peak (``docs/performance.md``), peak memory.
2. **bench**: ``hf-ser bench`` at the same shape: the Trainer baseline and hf_ser's training path on the same
   clips, with the same figures for both (audio-s/s, MFU, peak memory, the per-feature ablations).

``--cpu`` runs both parts with a tiny shape and a few clips (what the test runs); ``--cpu --shape xls-r-300m
--parts features --variants cache,finetune`` on a CPU is the frozen-output cache check at the real width (short
clips): the cached epoch against epoch 1 and against a full fine-tuning epoch, each beside the FLOP model's bound.

Usage: python -m benchmarks.gpu_check [--cpu] [--parts features,bench] [--variants sdpa,eager,compile,cache,finetune]
       [--shape xls-r-300m|tiny] [--layers N] [--frozen N] [--clips N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from benchmarks.trainer.measure import PeakMemory, synchronize
from benchmarks.trainer.models import (
    PEAK_BF16_TFLOPS,
    cached_train_gflops_per_audio_s,
    train_gflops_per_audio_s,
)
from hf_ser.data.batching import BucketBatchSampler, pad_ladder
from hf_ser.data.frozen_cache import FrozenCacheModel, FrozenOutputCache
from hf_ser.models import build_model
from hf_ser.training.optim import build_optimizer

SAMPLE_RATE = 16_000
VARIANTS = ("sdpa", "eager", "compile", "cache", "finetune")


@dataclass
class Shape:
    """What the features part trains."""

    backbone: str
    layers: int
    frozen: int
    clips: int
    batch_audio_s: float
    median_s: float
    min_s: float
    max_s: float


def iemocap_like_lengths(n: int, *, median_s: float, min_s: float, max_s: float, seed: int = 0) -> np.ndarray:
    """Clip lengths in samples: log-normal (log-sd 0.55) around ``median_s``, clipped (as ``hf-ser bench``'s data)."""
    rng = np.random.default_rng(seed)
    seconds = np.clip(rng.lognormal(math.log(median_s), 0.55, size=n), min_s, max_s)
    return (seconds * SAMPLE_RATE).astype(np.int64)


def make_batches(lengths: np.ndarray, batch_audio_s: float) -> list[list[int]]:
    """Length-bucketed token-budget batches of one epoch (hf_ser's sampler), in a fixed order."""
    sampler = BucketBatchSampler(lengths, max_batch_samples=int(batch_audio_s * SAMPLE_RATE), seed=0)
    return sampler.batches(0)


def device_batch(lengths: np.ndarray, idx: list[int], device: torch.device, pad_lengths: tuple[int, ...] = ()):
    """Synthetic normalised audio for clips ``idx``, generated on ``device`` (no host copy, no decode)."""
    lens = lengths[idx]
    longest = int(lens.max())
    fits = [n for n in pad_lengths if n >= longest]
    width = min(fits) if fits else -(-longest // 320) * 320
    generator = torch.Generator(device=device).manual_seed(int(sum(idx)))
    values = torch.randn(len(idx), width, device=device, generator=generator)
    # Host lists copied without blocking, as the training loader's pinned batches are.
    real = torch.as_tensor(lens).to(device, non_blocking=True)
    mask = (torch.arange(width, device=device)[None, :] < real[:, None]).long()
    labels = torch.as_tensor([i % 4 for i in idx]).to(device, non_blocking=True)
    return values * mask, mask, labels, float(lens.sum()) / SAMPLE_RATE


def _train_steps(model: torch.nn.Module, net, batches, lengths, device, bf16: bool, pads=(), cache_rows=False):
    """A ``step(idx) -> audio seconds`` closure over ``net`` with hf_ser's optimizer."""
    optimizer = build_optimizer(model, lr=1e-5, head_lr=None, weight_decay=0.0)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)

    def step(idx: list[int]) -> float:
        values, mask, labels, audio_s = device_batch(lengths, idx, device, pads)
        extra = {"cache_keys": idx, "cacheable": [True] * len(idx)} if cache_rows else {}
        if not pads:  # host lengths, as train.run passes them (not to a compiled model: they would recompile)
            extra["input_lengths"] = [int(n) for n in lengths[idx]]
        with autocast:
            loss = net(values, attention_mask=mask, labels=labels, **extra).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return audio_s

    return step


def _epochs(step, batches, epochs: int) -> list[float]:
    rates = []
    for _ in range(epochs):
        synchronize()
        t0, audio_s = time.perf_counter(), 0.0
        for idx in batches:
            audio_s += step(idx)
        synchronize()
        rates.append(audio_s / (time.perf_counter() - t0))
    return rates


def _model(shape: Shape, device: torch.device, attn: str, frozen: int | None = None) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(
        backbone=shape.backbone, id2label={i: f"c{i}" for i in range(4)},
        num_frozen_layers=shape.frozen if frozen is None else frozen,
        layers=shape.layers, pooling="mean", dropout=0.0, mask_time_prob=0.0, seed=0, attn_implementation=attn,
    ).to(device)


def run_variant(name: str, shape: Shape, device: torch.device, bf16: bool, *, epochs: int = 2) -> dict:
    """Train ``epochs`` epochs over the clip set with one feature switched; per-epoch audio-s/s.

    ``compile`` trains on clips that pad to two lengths of the ladder, in batches of a fixed size, so that
    it compiles twice; the same batches uncompiled give its reference (``uncompiled_audio_s_per_s``).
    """
    lengths = iemocap_like_lengths(shape.clips, median_s=shape.median_s, min_s=shape.min_s, max_s=shape.max_s)
    frozen = 0 if name == "finetune" else shape.frozen
    model = _model(shape, device, "eager" if name == "eager" else "sdpa", frozen=frozen)
    extra: dict = {}
    if name == "compile":
        pads = pad_ladder(int(lengths.max()), shortest=int(lengths.min()))
        lo, hi = pads[len(pads) // 2 - 1], pads[len(pads) // 2]  # two rungs around the median length
        lengths = np.clip(lengths, (lo * 4) // 5, hi)
        size = max(1, int(shape.batch_audio_s * SAMPLE_RATE // hi))
        order = np.argsort(lengths, kind="stable")
        batches = [order[i : i + size].tolist() for i in range(0, len(order) - size + 1, size)]  # full batches only
        model._static_masks = True  # as train.run under train.compile: masks from shapes, no graph break
        step = _train_steps(model, model, batches, lengths, device, bf16, pads=(lo, hi))
        step(batches[0])
        extra["uncompiled_audio_s_per_s"] = _epochs(step, batches, 1)[0]
        limit = 16
        torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, limit)
        step = _train_steps(model, torch.compile(model, dynamic=False), batches, lengths, device, bf16, pads=(lo, hi))
        t0 = time.perf_counter()
        for idx in (batches[0], batches[-1]):  # one batch per padded length: both graphs
            step(idx)
        synchronize()
        extra.update(compile_s=round(time.perf_counter() - t0, 1), pad_lengths=[lo, hi], batch_size=size)
    else:
        batches = make_batches(lengths, shape.batch_audio_s)
        net: torch.nn.Module = model
        if name == "cache":
            cache = FrozenOutputCache(budget_bytes=8 * 2**30, dtype="bfloat16" if bf16 else "float16", device=device)
            net = FrozenCacheModel(model, cache)
        step = _train_steps(model, net, batches, lengths, device, bf16, cache_rows=name == "cache")
        if name != "cache":
            step(batches[0])  # warm-up: kernels, allocator (the cache run's epoch 1 is its own reference)
    with PeakMemory() as memory:
        rates = _epochs(step, batches, epochs)
    # GFLOPs per audio-second of each epoch: a cache run's epochs after the first run only the trainable layers.
    flops = [train_gflops_per_audio_s(num_layers=shape.layers, num_frozen_layers=frozen)] * len(rates)
    if name == "cache":
        flops[1:] = [cached_train_gflops_per_audio_s(num_layers=shape.layers, num_frozen_layers=frozen)] * (len(rates) - 1)
    out = {
        "variant": name, "frozen_layers": frozen, "audio_s_per_s": rates, "peak_memory_mb": round(memory.peak_mb, 1),
        "steps_per_epoch": len(batches), "audio_s_per_epoch": round(float(lengths[np.concatenate(batches)].sum()) / SAMPLE_RATE, 1),
        "mfu": [r * f / (PEAK_BF16_TFLOPS * 1000) for r, f in zip(rates, flops)] if device.type == "cuda" else None,
        **extra,
    }
    if name == "compile":
        out["compiled_over_uncompiled"] = rates[-1] / extra["uncompiled_audio_s_per_s"]
    if name == "cache":
        out["epoch2_over_epoch1"] = rates[1] / rates[0]
        out["cache_mb"] = round(cache.nbytes / 2**20, 1)
    return out


def run_bench(args: argparse.Namespace) -> dict:
    """``hf-ser bench`` at the check's shape, in a child process (its own memory peaks), as JSON."""
    cmd = [sys.executable, "-m", "hf_ser.cli", "bench", "--json", "--model", args.shape, "--layers", str(args.layers),
           "--frozen-layers", str(args.frozen), "--clips", str(args.bench_clips), "--epochs", str(args.bench_epochs),
           "--ablation-epochs", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"hf-ser bench failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary_lines(results: dict) -> list[str]:
    """The figures, one line each."""
    lines = []
    for r in results.get("features", []):
        if "error" in r:
            lines.append(f"features {r['variant']:<8} FAILED: {r['error']}")
            continue
        mfu = " ".join(f"{m:.1%}" for m in r["mfu"]) if r["mfu"] else "n/a (CPU)"
        extra = ""
        if "compile_s" in r:
            extra = (f"  x{r['compiled_over_uncompiled']:.2f} vs the same batches uncompiled "
                     f"({r['uncompiled_audio_s_per_s']:.1f}); compile {r['compile_s']} s, padded lengths {r['pad_lengths']}")
        if "epoch2_over_epoch1" in r:
            extra = f"  epoch 2 / epoch 1 = x{r['epoch2_over_epoch1']:.2f} (cache {r['cache_mb']} MB)"
        rates = " ".join(f"{x:.3g}" for x in r["audio_s_per_s"])
        lines.append(f"features {r['variant']:<8} audio-s/s per epoch {rates}  MFU {mfu}  peak {r['peak_memory_mb']:.0f} MB{extra}")
    ref = {r["variant"]: r for r in results.get("features", []) if "error" not in r}
    if "sdpa" in ref:
        base = ref["sdpa"]["audio_s_per_s"][-1]
        for name in ("eager",):
            if name in ref:
                lines.append(f"effect   {name:<8} x{ref[name]['audio_s_per_s'][-1] / base:.2f} vs sdpa (epoch 2)")
    lines += cache_effect_lines(ref, results.get("header", {}).get("shape", {}))
    bench = results.get("bench")
    if isinstance(bench, dict) and "paths" in bench:
        for name, path in bench["paths"].items():
            mfu = bench.get("mfu", {}).get(name)
            lines.append(
                f"bench    {name:<8} train audio-s/s {path['train_audio_s_per_s']:.1f}  "
                f"MFU {'n/a' if mfu is None else f'{mfu:.1%}'}  peak {path['peak_memory_mb']:.0f} MB  "
                f"real frames {path['real_frame_fraction']:.2f}"
            )
        lines.append(f"bench    speed-up x{bench['speedup']:.2f} over the Trainer baseline")
        for feature, fig in bench.get("features", {}).items():
            if isinstance(fig, dict) and "speedup" in fig:
                lines.append(f"bench    feature {feature}: x{fig['speedup']:.2f}")
    elif bench is not None:
        lines.append(f"bench    FAILED: {bench}")
    return lines


def cache_effect_lines(ref: dict, shape: dict) -> list[str]:
    """The cached epoch against epoch 1 and against a full fine-tuning epoch, with the FLOP model's bounds
    (only for the 1024-wide XLS-R shape the model describes)."""
    if "cache" not in ref:
        return []
    cache = ref["cache"]
    layers, frozen = shape.get("layers"), cache.get("frozen_layers")
    exact = shape.get("backbone") == "shape:xls-r-300m" and layers and frozen is not None

    def bound(reference_frozen: int) -> str:
        if not exact:
            return ""
        f = train_gflops_per_audio_s(num_layers=layers, num_frozen_layers=reference_frozen)
        return f" (FLOP model bound x{f / cached_train_gflops_per_audio_s(num_layers=layers, num_frozen_layers=frozen):.2f})"

    cached = cache["audio_s_per_s"][1]
    lines = [f"effect   cache    epoch 2 (cached) / epoch 1 = x{cached / cache['audio_s_per_s'][0]:.2f}{bound(frozen)}"]
    if "finetune" in ref:
        full = ref["finetune"]["audio_s_per_s"][-1]
        lines.append(f"effect   cache    epoch 2 (cached) / full fine-tuning epoch = x{cached / full:.2f}{bound(0)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="tiny shape, few clips: the CPU smoke mode")
    parser.add_argument("--parts", default="features,bench")
    parser.add_argument("--variants", default=None, help=f"subset of {','.join(VARIANTS)} (CPU default: no compile)")
    parser.add_argument("--shape", default=None, choices=("xls-r-300m", "tiny"))
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--frozen", type=int, default=None)
    parser.add_argument("--clips", type=int, default=None, help="clips of the features part")
    parser.add_argument("--median-s", type=float, default=None, help="median clip length of the features part")
    parser.add_argument("--bench-clips", type=int, default=None)
    parser.add_argument("--bench-epochs", type=int, default=None)
    parser.add_argument("--json", default=None, help="also write every figure here")
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available() and not args.cpu
    device = torch.device("cuda" if cuda else "cpu")
    args.shape = args.shape or ("tiny" if args.cpu else "xls-r-300m")
    args.layers = args.layers or (24 if args.shape == "xls-r-300m" else 2)
    args.frozen = args.frozen if args.frozen is not None else args.layers // 2
    args.bench_clips = args.bench_clips or (10 if args.cpu else 160)
    args.bench_epochs = args.bench_epochs or (2 if args.cpu else 3)
    variants = (args.variants or ",".join(v for v in VARIANTS if cuda or v != "compile")).split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {','.join(VARIANTS)}")
    short = args.cpu or not cuda
    shape = Shape(
        backbone=f"shape:{args.shape}", layers=args.layers, frozen=args.frozen,
        clips=args.clips or (8 if short else 256), batch_audio_s=8.0 if short else 160.0,
        median_s=args.median_s or (1.0 if short else 3.0), min_s=0.5 if short else 1.0, max_s=2.0 if short else 15.0,
    )
    header = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "device": torch.cuda.get_device_name(0) if cuda else "cpu",
              "torch": torch.__version__, "bf16": cuda, "shape": vars(shape)}
    print(json.dumps(header))
    results: dict = {"header": header}
    results["features"] = []

    def feature(name: str) -> None:
        try:
            results["features"].append(run_variant(name, shape, device, bf16=cuda))
        except Exception as e:  # one feature failing must not hide the others' figures
            results["features"].append({"variant": name, "error": f"{type(e).__name__}: {e}"[:500]})
        print(summary_lines({"features": results["features"][-1:]})[0], flush=True)
        if cuda:
            torch.cuda.empty_cache()

    if "features" in args.parts:
        for name in (v for v in variants if v != "compile"):
            feature(name)
    if "bench" in args.parts:  # before compile, the slowest to start: a cut-short run keeps the bench figures
        try:
            results["bench"] = run_bench(args)
        except Exception as e:
            results["bench"] = f"{type(e).__name__}: {e}"[:3000]
        print("\n".join(line for line in summary_lines({"bench": results["bench"]})), flush=True)
    if "features" in args.parts and "compile" in variants:
        feature("compile")
    print("--- summary")
    print("\n".join(summary_lines(results)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    failed = [r for r in results.get("features", []) if "error" in r] or isinstance(results.get("bench"), str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
