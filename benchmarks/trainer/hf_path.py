"""hf_ser's side of the benchmark: the shipped training loop, ``hf_ser.train.run``, on the benchmark clips.

The benchmark clips are written as a manifest corpus (one "speaker" per clip, so ``holdout_speakers`` with the
test clips' ids reproduces the benchmark's train / test split exactly; ``valid_fraction=0`` with
``selection_split: none`` trains on every training clip and tests the final model, as the baseline does). Each variant is a recipe: the same loop, ``prepare``, ``accumulate``,
clipping, checkpoints and evaluation a user gets; the figures come from the ``training`` section the loop
writes into ``metrics.json`` (per-epoch wall time without validation and checkpoints, time waiting for
batches, real and padded audio). This module has no training step of its own.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks.trainer.data import BenchData
from benchmarks.trainer.measure import CpuClock, PathResult, PeakMemory
from hf_ser.audio import SAMPLE_RATE
from hf_ser.config import CorpusSpec, DataConfig, ModelConfig, RecipeConfig, TrainConfig
from hf_ser.training.callbacks import Callback

CORPUS = "manifest"  # the manifest loader's corpus name (results key "test/manifest")


@dataclass(frozen=True)
class Variant:
    """Which speed features an hf_ser run uses (the decode-once store is always on; it is timed separately)."""

    name: str
    bucket: bool = True  # length-bucketed batches (else random batches, as the baseline)
    no_grad_cut: bool = True  # everything below the cut without autograd (else requires_grad=False only)
    cache: bool = True  # frozen-output cache across epochs


VARIANTS: dict[str, Variant] = {
    "full": Variant("hf_ser"),
    "no_cache": Variant("hf_ser without the frozen-output cache", cache=False),
    "no_bucketing": Variant("hf_ser with random batches (no bucketing)", bucket=False),
    "naive_freezing": Variant("hf_ser with requires_grad=False freezing, no cache", no_grad_cut=False, cache=False),
}


def token_budget(lengths, batch_size: int) -> int:
    """Padded samples per bucketed batch: ``batch_size`` clips of the median length."""
    return int(batch_size * float(np.median(lengths)))


def write_manifest(data: BenchData, clips_dir: Path) -> Path:
    """A ``manifest.jsonl`` of every benchmark clip (train then test) next to the clips; returns its path."""
    path = Path(clips_dir) / "manifest.jsonl"
    rows = [
        {"path": Path(c.path).name, "label": c.label, "speaker": _speaker(c.key), "utt_id": _speaker(c.key)}
        for c in data.train + data.test
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def prepare_store(manifest: Path, cache_dir: Path) -> float:
    """Decode every benchmark clip once into the audio store the runs read; returns the seconds it took."""
    from hf_ser.data.prepare import prepare_corpora

    t0 = time.perf_counter()
    prepare_corpora([_corpus(manifest)], label_set="all", cache_dir=str(cache_dir), progress=False)
    return time.perf_counter() - t0


def bench_recipe(
    data: BenchData,
    manifest: Path,
    *,
    variant: Variant,
    output_dir: Path,
    cache_dir: Path,
    init_dir: Path,
    num_frozen_layers: int,
    batch_size: int,
    epochs: int,
    lr: float,
    warmup_ratio: float,
    seed: int,
    max_length_s: float = 20.0,
    cache_budget_mb: float = 2048.0,
    max_grad_norm: float = 1.0,
    bf16: bool = False,
) -> RecipeConfig:
    """The recipe of one hf_ser variant: the benchmark's data, the shared random init, the variant's features."""
    return RecipeConfig(
        name=f"bench-{variant.name}",
        overwrite=True,  # the benchmark's own scratch folder
        data=DataConfig(
            corpora=[_corpus(manifest)],
            label_set="all",
            protocol="holdout_speakers",
            protocol_options={"test_speakers": [_speaker(c.key) for c in data.test]},
            valid_fraction=0.0,  # every training clip trains, as in the baseline
            selection_split="none",  # and the final model is tested, as the baseline's
            cache_dir=str(cache_dir),
            max_duration_s=max_length_s,
        ),
        model=ModelConfig(
            backbone=str(init_dir),
            num_frozen_layers=num_frozen_layers if variant.no_grad_cut else 0,
            pooling="mean",
            head_hidden_size=None,  # mean pooling + linear: the baseline's projector + mean + linear, collapsed
            dropout=0.0,
        ),
        train=TrainConfig(
            output_dir=str(output_dir),
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=0.0,
            warmup_ratio=warmup_ratio,
            max_grad_norm=max_grad_norm,
            mixed_precision="bf16" if bf16 else "no",
            seed=seed,
            keep_checkpoints=1,
            frozen_cache_mb=cache_budget_mb if variant.cache and num_frozen_layers > 0 else 0.0,
            bucket_by_length=variant.bucket,
            # Token-budget batches (batch size x the median clip) when bucketing: real frames >= 0.95 at the
            # benchmark's size, where fixed batches of sorted clips reach ~0.86; random batches keep the fixed size.
            max_batch_audio_s=(
                token_budget([int(min(c.duration_s, max_length_s) * SAMPLE_RATE) for c in data.train], batch_size) / SAMPLE_RATE
                if variant.bucket else None
            ),
        ),
    )


class NaiveFreezing(Callback):
    """Freeze the bottom ``num_layers`` encoder layers the baseline's way (``requires_grad=False``, autograd still
    runs through them), on the built model before the optimizer collects its parameters."""

    def __init__(self, num_layers: int):
        self.num_layers = num_layers

    def on_model_built(self, model: torch.nn.Module) -> None:
        for layer in model.backbone.encoder.layers[: self.num_layers]:
            layer.requires_grad_(False)


def run_hf_ser(cfg: RecipeConfig, *, variant: Variant, num_frozen_layers: int, evaluate: bool = True) -> PathResult:
    """Run ``hf_ser.train.run(cfg)`` and read its figures from the loop's own record.

    ``variant.no_grad_cut=False`` freezes the bottom layers the baseline's way (``requires_grad=False``,
    autograd still runs through them) on the built model before ``prepare``.
    """
    from hf_ser.train import run

    callbacks = () if variant.no_grad_cut else (NaiveFreezing(num_frozen_layers),)
    with PeakMemory() as memory, CpuClock() as cpu, contextlib.redirect_stdout(sys.stderr):  # the run's own table
        out = run(cfg, callbacks=callbacks)
    metrics = next(iter(out["folds"].values()))
    t = {**metrics["training"], **next(iter(out["timing"].values()))["training"]}
    result = PathResult(name=variant.name)
    result.epoch_times_s = list(t["epoch_s"])
    result.train_time_s = t["train_s"]
    result.train_cpu_s = t["train_cpu_s"]
    result.machine_busy = cpu.machine_busy  # over the whole run (data preparation and evaluation included)
    result.train_audio_s = t["train_audio_s"]
    result.real_samples = round(t["train_audio_s"] * SAMPLE_RATE)
    result.computed_samples = round(t["padded_audio_s"] * SAMPLE_RATE)
    result.data_wait_s = t["data_wait_s"]
    result.train_loss = t["train_loss"] if t["train_loss"] is not None else float("nan")
    result.peak_memory_mb = memory.peak_mb
    if "frozen_cache" in metrics:
        c = metrics["frozen_cache"]
        result.notes["cache"] = {"clips": c["clips"], "mb": c["mb"], "hits": c["hits"], "misses": c["misses"], "over_budget": c["rejected"]}
    if evaluate:
        test = metrics["results"][f"test/{CORPUS}"]
        result.eval_time_s = next(iter(out["timing"].values()))["evaluation"]["test_eval_s"]
        result.eval_audio_s = t["test_audio_s"]
        result.wa, result.ua = float(test["wa"]), float(test["ua"])
    return result


def _corpus(manifest: Path) -> CorpusSpec:
    return CorpusSpec(name=CORPUS, root=str(manifest))


def _speaker(key: str) -> str:
    # "bench/00012" -> "c00012": one speaker per clip, so the benchmark's clip split is a speaker split.
    return "c" + key.split("/", 1)[1]
