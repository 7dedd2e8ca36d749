"""hf_ser's training path as ``hf_ser/train.py`` runs it, with each speed feature switchable for the benchmark.

The same parts as ``train.py``: ``AudioStore`` (decode once into a memory-mapped 16 kHz store),
``ClipDataset`` + ``BucketBatchSampler`` + ``Collator``, ``build_model`` (no-grad below the cut), hf_ser's
``build_optimizer`` / ``build_scheduler`` (fused AdamW on CUDA), ``accelerate``, ``predict`` / ``score``; plus
the frozen-output cache (``hf_ser.data.frozen_cache``). The loop is ``train.py``'s inner loop without
validation, checkpoints and logging, with timers around ``next(loader)`` and each epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
from accelerate import Accelerator

from hf_ser.bench.data import BenchData
from hf_ser.bench.measure import CpuClock, PathResult, PeakMemory, Stopwatch, synchronize
from hf_ser.data.batching import BucketBatchSampler, ClipDataset, Collator
from hf_ser.data.frozen_cache import FrozenCacheModel, FrozenOutputCache, cacheable_clips
from hf_ser.data.store import AudioStore
from hf_ser.evaluation.inference import window_loader
from hf_ser.loop import build_optimizer, build_scheduler, predict, score
from hf_ser.models import build_model

SAMPLE_RATE = 16_000


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


def prepare_store(data: BenchData, cache_root: Path) -> tuple[AudioStore, list[str], float]:
    """Decode every benchmark clip once into an audio store. Returns the store, keys (train then test), seconds."""
    clips = data.train + data.test
    rows = {
        "corpus": ["bench"] * len(clips),
        "utt_id": [c.key.split("/", 1)[1] for c in clips],
        "path": [c.path for c in clips],
        "rel_path": [Path(c.path).name for c in clips],
    }
    t0 = time.perf_counter()
    store, kept = AudioStore.prepare(datasets.Dataset.from_dict(rows), cache_root, progress=False)
    seconds = time.perf_counter() - t0
    if len(kept) != len(clips):
        raise RuntimeError(f"the audio store dropped {len(clips) - len(kept)} benchmark clips")
    return store, [f"bench/{u}" for u in rows["utt_id"]], seconds


def run_hf_ser(
    data: BenchData,
    store: AudioStore,
    keys: list[str],
    *,
    variant: Variant,
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
    evaluate: bool = True,
) -> PathResult:
    """Train (and evaluate) hf_ser's path on ``data``; returns its figures.

    Args:
        data: benchmark clips; ``store``/``keys`` from ``prepare_store``.
        variant: the speed features to use.
        init_dir: the shared random ``Wav2Vec2Model``.
        num_frozen_layers, batch_size, epochs, lr, warmup_ratio, seed, max_length_s: as for the baseline.
        cache_budget_mb: RAM budget of the frozen-output cache.
        max_grad_norm: gradient clipping (train.py's and the Trainer's default, 1.0).
        bf16: bf16 mixed precision (GPU).
        evaluate: also evaluate on the test clips (WA/UA, eval throughput).
    """
    result = PathResult(name=variant.name)
    label2id = {name: i for i, name in enumerate(data.labels)}
    n_train = len(data.train)
    train_keys, test_keys = keys[:n_train], keys[n_train:]
    train_ids = np.array([label2id[c.label] for c in data.train])
    test_ids = np.array([label2id[c.label] for c in data.test])
    max_samples = int(max_length_s * SAMPLE_RATE)

    model = build_model(
        backbone=str(init_dir),
        id2label={i: name for name, i in label2id.items()},
        num_frozen_layers=num_frozen_layers if variant.no_grad_cut else 0,
        pooling="mean",
        head_hidden_size=None,  # mean pooling + linear: the baseline's projector + mean + linear, collapsed
        dropout=0.0,
        seed=seed,
    )
    if not variant.no_grad_cut:  # the baseline's way: parameters frozen, autograd still runs through them
        for layer in model.backbone.encoder.layers[:num_frozen_layers]:
            layer.requires_grad_(False)
    accelerator = Accelerator(mixed_precision="bf16" if bf16 else "no", cpu=not torch.cuda.is_available())

    train_set = ClipDataset(lambda i: store.get(train_keys[i]), train_ids, max_samples=max_samples, seed=seed)
    lengths = [min(store.num_samples(k), max_samples) for k in train_keys]
    # Token-budget batches (batch size x the median clip) when bucketing: real frames >= 0.95 at the benchmark's
    # size, where fixed 8-clip batches of sorted clips reach ~0.86; random batches keep the fixed size.
    budget = token_budget(lengths, batch_size) if variant.bucket else None
    sampler = BucketBatchSampler(lengths, batch_size=batch_size, max_batch_samples=budget, bucket=variant.bucket, seed=seed)
    train_loader = torch.utils.data.DataLoader(train_set, batch_sampler=sampler, collate_fn=Collator(), num_workers=0)
    test_lengths = [store.num_samples(k) for k in test_keys]
    # Whole test clips (one window each), as the Trainer baseline scores them.
    test_loader = window_loader(
        lambda i: store.get(test_keys[i]), test_lengths, window=max(test_lengths), batch_size=batch_size, label_ids=test_ids
    )

    steps = len(sampler.batches(0)) * epochs
    optimizer = build_optimizer(model, lr=lr, head_lr=None, weight_decay=0.0)
    scheduler = build_scheduler(optimizer, name="linear", total_steps=steps, warmup_ratio=warmup_ratio)
    cache = None
    net: torch.nn.Module = model
    if variant.cache and num_frozen_layers > 0:
        cache = FrozenOutputCache(budget_bytes=int(cache_budget_mb * 2**20), dtype="bfloat16" if bf16 else "float16")
        net = FrozenCacheModel(model, cache)
    full_lengths = [store.num_samples(k) for k in train_keys]
    cacheable = cacheable_clips(full_lengths, max_samples=max_samples, augmented=False)
    net, optimizer, scheduler = accelerator.prepare(net, optimizer, scheduler)

    wait = Stopwatch()
    losses = []
    with PeakMemory() as memory, CpuClock() as cpu:
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            net.train()
            synchronize()
            t0 = time.perf_counter()
            batches = iter(train_loader)
            while True:
                with wait:
                    batch = next(batches, None)
                if batch is None:
                    break
                batch = {k: v.to(accelerator.device) for k, v in batch.items()}
                extra = {}
                if cache is not None:
                    index = batch["index"].tolist()
                    extra = {"cache_keys": index, "cacheable": [cacheable[i] for i in index]}
                loss = net(batch["input_values"], attention_mask=batch["attention_mask"], labels=batch["labels"], **extra).loss
                accelerator.backward(loss)
                losses.append(loss.detach())
                if max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                mask = batch["attention_mask"]
                result.real_samples += int(mask.sum())
                result.computed_samples += int(mask.numel())
            synchronize()
            result.epoch_times_s.append(time.perf_counter() - t0)
    result.train_time_s = sum(result.epoch_times_s)
    result.train_cpu_s, result.machine_busy = cpu.cpu_s, cpu.machine_busy
    result.train_audio_s = result.real_samples / SAMPLE_RATE
    result.data_wait_s = wait.total_s
    result.train_loss = float(torch.stack(losses).float().mean()) if losses else float("nan")
    result.peak_memory_mb = memory.peak_mb
    if cache is not None:
        result.notes["cache"] = {
            "clips": len(cache),
            "mb": round(cache.nbytes / 2**20, 1),
            "hits": cache.stats.hits,
            "misses": cache.stats.misses,
            "over_budget": cache.stats.rejected,
        }
    if evaluate:
        test_loader = accelerator.prepare(test_loader)
        synchronize()
        with Stopwatch() as eval_watch:
            out = predict(accelerator, model, test_loader)
            synchronize()
        result.eval_time_s = eval_watch.total_s
        result.eval_audio_s = sum(store.num_samples(k) for k in test_keys) / SAMPLE_RATE
        metrics = score(out, list(data.labels))
        result.wa, result.ua = float(metrics["wa"]), float(metrics["ua"])
    accelerator.free_memory()
    return result
