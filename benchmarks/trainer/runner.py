"""Run the whole benchmark in one process: data, shared init, baseline, hf_ser, one ablation per speed feature."""

from __future__ import annotations

import gc
import logging
import os
import platform
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import psutil
import torch
import transformers

from benchmarks.trainer.baseline import run_baseline
from benchmarks.trainer.data import build_bench_data
from benchmarks.trainer.hf_path import VARIANTS, bench_recipe, prepare_store, run_hf_ser, write_manifest
from benchmarks.trainer.measure import PathResult
from benchmarks.trainer.models import (
    BENCH_MODELS,
    PEAK_BF16_TFLOPS,
    bench_config,
    train_gflops_per_audio_s,
    write_init,
)
from hf_ser.audio import SAMPLE_RATE
from hf_ser.data.batching import BucketBatchSampler

logger = logging.getLogger(__name__)

IEMOCAP_4CLASS_CLIPS = 5531  # docs/corpora.md: the size at which bucketing's real-frame fraction is quoted


@dataclass
class BenchSettings:
    """What both paths share. ``model=None`` picks ``xls-r-300m`` (24 layers, 12 frozen, bf16) on a GPU and
    ``xlsr-cpu`` (8 layers, 4 frozen, fp32) on a CPU; ``num_layers``/``num_frozen_layers`` None: that default."""

    model: str | None = None
    num_layers: int | None = None
    num_frozen_layers: int | None = None
    clips: int = 150
    epochs: int = 3
    ablation_epochs: int = 1
    ablations: tuple[str, ...] = ("no_cache", "no_bucketing", "naive_freezing")
    batch_size: int = 8
    lr: float = 5e-4
    warmup_ratio: float = 0.1
    seed: int = 0
    """The data draw's seed and round 1's training seed; round r trains with ``seed + r - 1`` (init, batch order,
    SpecAugment), every side of a round with the same one, so the rounds also measure seed noise in accuracy."""
    max_length_s: float = 20.0
    cache_budget_mb: float = 2048.0
    work_dir: str | None = None
    repeats: int = 1
    """Rounds of (baseline, group_by_length baseline, hf_ser), interleaved; figures are medians over rounds."""

    def resolved(self) -> BenchSettings:
        gpu = torch.cuda.is_available()
        model = self.model or ("xls-r-300m" if gpu else "xlsr-cpu")
        layers = self.num_layers or (24 if model == "xls-r-300m" else 8 if model == "xlsr-cpu" else None)
        frozen = self.num_frozen_layers if self.num_frozen_layers is not None else (layers or 4) // 2
        if model not in BENCH_MODELS:
            raise KeyError(f"unknown benchmark model {model!r}; choose one of {sorted(BENCH_MODELS)}")
        unknown = sorted(set(self.ablations) - set(VARIANTS))
        if unknown:
            raise KeyError(f"unknown ablations {unknown}; choose from {sorted(set(VARIANTS) - {'full'})}")
        return BenchSettings(**{**asdict(self), "model": model, "num_layers": layers, "num_frozen_layers": frozen})


def run_benchmark(settings: BenchSettings) -> dict:
    """Run the benchmark and return the report (see ``report.format_report`` for the printed table)."""
    s = settings.resolved()
    bf16 = torch.cuda.is_available()
    with tempfile.TemporaryDirectory(prefix="hf_ser_bench_") as tmp:
        work = Path(s.work_dir) if s.work_dir else Path(tmp)
        data = build_bench_data(work / "clips", num_clips=s.clips, seed=s.seed)
        config = bench_config(s.model, num_layers=s.num_layers)

        inits: dict[int, Path] = {}  # one random init per seed, written once and shared by every run with it

        def shared(seed: int) -> dict:
            """What every side of a round shares: the seeded random init and the training settings."""
            if seed not in inits:
                inits[seed] = write_init(config, work / f"init-{s.model}-{config.num_hidden_layers}-{seed}", seed=seed)
            return {
                "init_dir": inits[seed],
                "num_frozen_layers": s.num_frozen_layers,
                "batch_size": s.batch_size,
                "lr": s.lr,
                "warmup_ratio": s.warmup_ratio,
                "seed": seed,
                "max_length_s": s.max_length_s,
                "bf16": bf16,
            }

        load_start = os.getloadavg()[0]
        manifest = write_manifest(data, work / "clips")
        prepare_s = prepare_store(manifest, work / "store")

        def ours_run(name: str, epochs: int, evaluate: bool, seed: int) -> PathResult:
            # hf_ser's side is the shipped loop: train.run on a recipe per variant (benchmarks.trainer.hf_path).
            cfg = bench_recipe(
                data, manifest, variant=VARIANTS[name], output_dir=work / "runs" / name, cache_dir=work / "store",
                epochs=epochs, cache_budget_mb=s.cache_budget_mb, **shared(seed),
            )
            return run_hf_ser(cfg, variant=VARIANTS[name], num_frozen_layers=s.num_frozen_layers, evaluate=evaluate)

        # Interleaved rounds: a change in machine load hits every side, and the median over rounds resists it.
        # Each round trains with its own seed (same clips): the speed medians see the same work, and the spread of
        # the rounds' test accuracy is the seed noise the accuracy guard compares the sides against.
        rounds: list[dict[str, PathResult]] = []
        for r in range(s.repeats):
            seed = s.seed + r
            logger.info("bench: round %d/%d (seed %d): baseline, group_by_length baseline, hf_ser; %d epochs",
                        r + 1, s.repeats, seed, s.epochs)
            gc.collect()
            baseline = run_baseline(data, epochs=s.epochs, **shared(seed))
            gc.collect()
            grouped = run_baseline(data, epochs=s.epochs, group_by_length=True, **shared(seed))
            gc.collect()
            ours = ours_run("full", s.epochs, True, seed)
            ours.prepare_s = prepare_s
            rounds.append({"baseline": baseline, "baseline_group_by_length": grouped, "hf_ser": ours})
        median = {side: median_round(rounds, side) for side in rounds[0]}
        baseline, grouped, ours = median["baseline"], median["baseline_group_by_length"], median["hf_ser"]
        ablations: dict[str, PathResult] = {}
        for name in s.ablations:
            gc.collect()
            logger.info("bench: ablation %s, %d epoch(s)", name, s.ablation_epochs)
            ablations[name] = ours_run(name, s.ablation_epochs, False, s.seed)
    lengths = [int(c.duration_s * SAMPLE_RATE) for c in data.train]
    report = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "settings": asdict(s),
        "data": data.describe(),
        "model": {
            "name": s.model,
            "layers": config.num_hidden_layers,
            "frozen_layers": s.num_frozen_layers,
            "hidden": config.hidden_size,
            "ffn": config.intermediate_size,
            "heads": config.num_attention_heads,
            "cnn_channels": config.conv_dim[0],
            "precision": "bf16" if bf16 else "fp32",
        },
        "paths": {"baseline": baseline.to_dict(), "baseline_group_by_length": grouped.to_dict(), "hf_ser": ours.to_dict()},
        "speedups": {
            "vs_baseline": paired_speedups(rounds, "baseline"),
            "vs_group_by_length": paired_speedups(rounds, "baseline_group_by_length"),
        },
        "rounds": [
            {"seed": s.seed + r, **{side: round_figures(result) for side, result in rnd.items()}}
            for r, rnd in enumerate(rounds)
        ],
        "accuracy": {
            "vs_baseline": accuracy_guard(rounds, "baseline"),
            "vs_group_by_length": accuracy_guard(rounds, "baseline_group_by_length"),
        },
        "machine_load": {"loadavg_1min_start": load_start, "loadavg_1min_end": os.getloadavg()[0]},
        "ablations": {name: r.to_dict() for name, r in ablations.items()},
        "features": feature_effects(baseline, ours, ablations, s),
        # Median over rounds of the paired (same round) ratio; "speedups" has the range and the per-CPU-second one.
        "speedup": paired_speedups(rounds, "baseline")["wall"]["median"],
        "eval_speedup": ours.eval_audio_s_per_s / baseline.eval_audio_s_per_s if baseline.eval_audio_s_per_s else None,
        "real_frame_fraction": ours.real_frame_fraction,
        "real_frame_fraction_iemocap_size": simulated_real_frame_fraction(lengths, s.batch_size, s.seed),
    }
    if torch.cuda.is_available() and s.model == "xls-r-300m":
        flops = train_gflops_per_audio_s(num_layers=config.num_hidden_layers, num_frozen_layers=s.num_frozen_layers)
        report["mfu"] = {
            name: r.train_audio_s_per_s * flops / (PEAK_BF16_TFLOPS * 1000)
            for name, r in (("baseline", baseline), ("baseline_group_by_length", grouped), ("hf_ser", ours))
        }
    return report


def median_round(rounds: list[dict[str, PathResult]], side: str) -> PathResult:
    """The round whose training throughput on ``side`` is the median (the lower one for an even count)."""
    ordered = sorted((rnd[side] for rnd in rounds), key=lambda r: r.train_audio_s_per_s)
    return ordered[(len(ordered) - 1) // 2]


def paired_speedups(rounds: list[dict[str, PathResult]], baseline: str) -> dict:
    """hf_ser over ``baseline`` within each round, wall-clock and per CPU-second: median, min, max, all."""
    out = {}
    for name, rate in (("wall", "train_audio_s_per_s"), ("per_cpu_s", "train_audio_s_per_cpu_s")):
        ratios = [
            getattr(rnd["hf_ser"], rate) / getattr(rnd[baseline], rate)
            for rnd in rounds if getattr(rnd[baseline], rate) and getattr(rnd["hf_ser"], rate)
        ]
        out[name] = {
            "median": float(np.median(ratios)) if ratios else None,
            "min": min(ratios, default=None), "max": max(ratios, default=None), "rounds": ratios,
        }
    return out


# Two-sided 95% quantiles of Student's t, by degrees of freedom (any statistics table); 1.96 past 30.
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         15: 2.131, 20: 2.086, 30: 2.042}


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (the next tabulated smaller df: wider)."""
    if df > 30:
        return 1.96
    return _T975[max(k for k in _T975 if k <= df)]


def accuracy_guard(rounds: list[dict[str, PathResult]], baseline: str, metric: str = "ua") -> dict:
    """Is hf_ser's test accuracy within seed noise of ``baseline``'s? Rounds are seeds, paired within a round.

    Paired t-interval over the rounds: each round trains both sides from the same seed (init, order), so the
    per-round difference removes what the seed does to both. ``within_seed_noise`` is True when the 95% interval
    of the mean difference contains 0, None with fewer than two rounds (no noise estimate).
    """
    ours = [float(getattr(rnd["hf_ser"], metric)) for rnd in rounds]
    base = [float(getattr(rnd[baseline], metric)) for rnd in rounds]
    diffs = np.subtract(ours, base)
    n = len(diffs)
    out = {
        "metric": metric,
        "seeds": n,
        "baseline": baseline,
        "sides": {
            "hf_ser": {"mean": float(np.mean(ours)), "sd": float(np.std(ours, ddof=1)) if n > 1 else None, "rounds": ours},
            baseline: {"mean": float(np.mean(base)), "sd": float(np.std(base, ddof=1)) if n > 1 else None, "rounds": base},
        },
        "difference": float(np.mean(diffs)),  # hf_ser - baseline
        "half_width_95": None,
        "within_seed_noise": None,
    }
    if n > 1:
        half = t_quantile_975(n - 1) * float(np.std(diffs, ddof=1)) / np.sqrt(n)
        out["half_width_95"] = half
        out["within_seed_noise"] = bool(abs(out["difference"]) <= half)
    return out


def round_figures(result: PathResult) -> dict:
    """What one round of one side reports beside the medians."""
    return {
        "train_audio_s_per_s": result.train_audio_s_per_s,
        "train_audio_s_per_cpu_s": result.train_audio_s_per_cpu_s,
        "machine_busy": result.machine_busy,
        "real_frame_fraction": result.real_frame_fraction,
        "wa": result.wa,
        "ua": result.ua,
    }


def feature_effects(baseline: PathResult, ours: PathResult, ablations: dict[str, PathResult], s: BenchSettings) -> dict:
    """Each speed feature's effect on its own, from the runs that differ only in that feature."""
    out: dict[str, dict] = {}
    epochs = max(1, len(ours.epoch_times_s))
    out["decode_once"] = {
        "baseline_data_s_per_epoch": baseline.data_wait_s / max(1, len(baseline.epoch_times_s)),
        "hf_ser_data_s_per_epoch": ours.data_wait_s / epochs,
        "store_prepare_s_once": ours.prepare_s,
    }
    first_epoch_rate = _epoch_rate(ours, 0)
    if "no_bucketing" in ablations:
        other = ablations["no_bucketing"]
        out["bucketing"] = {
            "real_frame_fraction": [other.real_frame_fraction, ours.real_frame_fraction],
            "epoch1_audio_s_per_s": [_epoch_rate(other, 0), first_epoch_rate],
            "speedup": first_epoch_rate / _epoch_rate(other, 0),
        }
    if "no_cache" in ablations and "naive_freezing" in ablations:
        naive, cut = ablations["naive_freezing"], ablations["no_cache"]
        out["no_grad_cut"] = {
            "epoch1_audio_s_per_s": [_epoch_rate(naive, 0), _epoch_rate(cut, 0)],
            "speedup": _epoch_rate(cut, 0) / _epoch_rate(naive, 0),
        }
    if "no_cache" in ablations and len(ours.epoch_times_s) > 1:
        uncached = ablations["no_cache"]
        later = float(np.mean([_epoch_rate(ours, e) for e in range(1, len(ours.epoch_times_s))]))
        out["frozen_output_cache"] = {
            "later_epoch_audio_s_per_s": [_epoch_rate(uncached, 0), later],
            "speedup": later / _epoch_rate(uncached, 0),
            **ours.notes.get("cache", {}),
        }
    out["fused_optimizer"] = {"used": torch.cuda.is_available(), "note": "fused AdamW is CUDA-only"}
    out["loader"] = {"num_workers": 0, "torch_threads": torch.get_num_threads(), "data_wait_s": ours.data_wait_s}
    out["torch_compile"] = {"used": False, "note": "not implemented in the benchmark"}
    return out


def simulated_real_frame_fraction(lengths: list[int], batch_size: int, seed: int) -> dict:
    """Real-frame fraction of bucketed vs random batches for an IEMOCAP-sized set with the same lengths."""
    rng = np.random.default_rng(seed)
    sim = rng.choice(np.asarray(lengths), size=IEMOCAP_4CLASS_CLIPS, replace=True)
    sim = (sim * rng.uniform(0.9, 1.1, size=sim.size)).astype(np.int64)  # jitter: no exact repeats
    return {
        "clips": IEMOCAP_4CLASS_CLIPS,
        "bucketed": BucketBatchSampler(sim, batch_size=batch_size, seed=seed).real_frame_fraction(0),
        "random": BucketBatchSampler(sim, batch_size=batch_size, seed=seed, bucket=False).real_frame_fraction(0),
    }


def machine() -> dict:
    """A description of this machine for the report."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    return info


def _epoch_rate(result: PathResult, epoch: int) -> float:
    """Audio-seconds per second of one epoch (every epoch sees the same audio: no crop at 20 s)."""
    per_epoch_audio = result.train_audio_s / max(1, len(result.epoch_times_s))
    return per_epoch_audio / result.epoch_times_s[epoch] if result.epoch_times_s else 0.0
