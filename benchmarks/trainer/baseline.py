"""The baseline a user would pick: the transformers audio-classification example's recipe, written here.

What it does, as ``examples/pytorch/audio-classification/run_audio_classification.py`` does with its defaults:
    * a ``datasets.Dataset`` with an ``Audio`` column; every item is decoded and resampled again on every
      access (the example casts to ``Audio(sampling_rate=16_000)``; that decodes through torchcodec + FFmpeg,
      which hf_ser does not require, so we cast to ``Audio(decode=False)`` and decode with soundfile +
      ``torchaudio.functional.resample`` inside ``with_transform``: the same per-epoch work);
    * train transform: random crop to ``max_length_seconds`` (default 20 s), then the feature extractor
      normalises each clip on the CPU; evaluation: whole clips;
    * ``DataCollatorWithPadding`` pads each batch to its longest clip; the sampler is random, or with
      ``group_by_length=True`` the Trainer's ``LengthGroupedSampler`` (the example's ``--group_by_length``;
      ``train_sampling_strategy="group_by_length"`` in transformers 5), which reads every clip's length once
      through the transform at start-up, as it does for a user without a ``length`` column;
    * ``Wav2Vec2ForSequenceClassification`` (projector 256, mean pooling, linear) with
      ``freeze_feature_encoder()``; the lower layers are frozen the naive way (``requires_grad=False``);
    * the HF ``Trainer`` with its default optimizer and linear schedule, no evaluation during training, one
      evaluation at the end.
"""

from __future__ import annotations

import logging
import random
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF
from datasets import Audio, Dataset
from transformers import (
    DataCollatorWithPadding,
    PrinterCallback,
    Trainer,
    TrainingArguments,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForSequenceClassification,
)

from benchmarks.trainer.data import BenchClip, BenchData
from benchmarks.trainer.measure import CpuClock, PathResult, PeakMemory, Stopwatch, synchronize
from hf_ser.audio import SAMPLE_RATE
from hf_ser.metrics import classification_metrics

logger = logging.getLogger(__name__)


def _decode(audio: dict) -> np.ndarray:
    """Read one file and resample it to 16 kHz the way a user's transform would: (samples,) float32."""
    wave, rate = sf.read(audio["path"], dtype="float32", always_2d=True)
    wave = torch.from_numpy(wave.mean(axis=1))
    if rate != SAMPLE_RATE:
        wave = AF.resample(wave, rate, SAMPLE_RATE)
    return wave.numpy()


def _random_subsample(wave: np.ndarray, max_length_s: float) -> np.ndarray:
    """Random crop to ``max_length_s`` (the example's ``random_subsample``)."""
    max_samples = int(round(SAMPLE_RATE * max_length_s))
    if len(wave) <= max_samples:
        return wave
    start = random.randint(0, len(wave) - max_samples - 1)
    return wave[start : start + max_samples]


class _CountingCollator(DataCollatorWithPadding):
    """``DataCollatorWithPadding`` that also counts real and padded samples and its own time."""

    def __init__(self, *args, watch: Stopwatch, **kwargs):
        super().__init__(*args, **kwargs)
        self.watch = watch
        self.real = 0
        self.computed = 0

    def __call__(self, features):
        with self.watch:
            batch = super().__call__(features)
        mask = batch["attention_mask"]
        self.real += int(mask.sum())
        self.computed += int(mask.numel())
        return batch


def trainer_arguments(
    *, batch_size: int, epochs: int, lr: float, warmup_ratio: float, seed: int, bf16: bool, group_by_length: bool
) -> dict:
    """The ``TrainingArguments`` the baseline passes: the example's defaults plus the benchmark's shared
    settings. Everything not listed is the ``TrainingArguments`` default, as in the example (AdamW, weight decay
    0, ``max_grad_norm`` 1.0, ``gradient_accumulation_steps`` 1, dataloader workers 0)."""
    return {
        "per_device_train_batch_size": batch_size,
        "per_device_eval_batch_size": batch_size,
        "num_train_epochs": epochs,
        "learning_rate": lr,
        "warmup_steps": warmup_ratio,  # a float below 1 is a ratio of the total steps
        "lr_scheduler_type": "linear",
        "eval_strategy": "no",
        "save_strategy": "no",
        "logging_strategy": "no",
        "report_to": "none",
        "remove_unused_columns": False,  # the transform needs the "audio" column
        "seed": seed,
        "bf16": bf16,
        "use_cpu": not torch.cuda.is_available(),
        "disable_tqdm": True,
        "train_sampling_strategy": "group_by_length" if group_by_length else "random",
    }


def _dataset(clips: tuple[BenchClip, ...], label2id: dict[str, int]) -> Dataset:
    ds = Dataset.from_dict({"audio": [c.path for c in clips], "label": [label2id[c.label] for c in clips]})
    return ds.cast_column("audio", Audio(decode=False))


def run_baseline(
    data: BenchData,
    *,
    init_dir: Path,
    num_frozen_layers: int,
    batch_size: int,
    epochs: int,
    lr: float,
    warmup_ratio: float,
    seed: int,
    max_length_s: float = 20.0,
    bf16: bool = False,
    group_by_length: bool = False,
) -> PathResult:
    """Train and evaluate the baseline on ``data``; returns its figures.

    Args:
        data: benchmark clips (native sample rates).
        init_dir: the shared random ``Wav2Vec2Model`` (``models.write_init``).
        num_frozen_layers: bottom transformer layers set to ``requires_grad=False``.
        batch_size, epochs, lr, warmup_ratio, seed: as for hf_ser's path.
        max_length_s: training random-crop length (the example's default 20 s).
        bf16: bf16 mixed precision (GPU).
        group_by_length: the example's ``--group_by_length`` (length-grouped batches).
    """
    result = PathResult(name="baseline (HF Trainer, group_by_length)" if group_by_length else "baseline (HF Trainer)")
    label2id = {name: i for i, name in enumerate(data.labels)}
    torch.manual_seed(seed)
    model = Wav2Vec2ForSequenceClassification.from_pretrained(
        init_dir,
        num_labels=len(data.labels),
        label2id=label2id,
        id2label={i: name for name, i in label2id.items()},
        classifier_proj_size=256,
    )
    model.freeze_feature_encoder()
    for layer in model.wav2vec2.encoder.layers[:num_frozen_layers]:
        layer.requires_grad_(False)
    feature_extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )
    transform_watch = Stopwatch()

    def train_transforms(batch: dict) -> dict:
        with transform_watch:
            waves = [_random_subsample(_decode(a), max_length_s) for a in batch["audio"]]
            inputs = feature_extractor(waves, sampling_rate=SAMPLE_RATE)
        return {"input_values": inputs["input_values"], "labels": list(batch["label"])}

    def val_transforms(batch: dict) -> dict:
        with transform_watch:
            inputs = feature_extractor([_decode(a) for a in batch["audio"]], sampling_rate=SAMPLE_RATE)
        return {"input_values": inputs["input_values"], "labels": list(batch["label"])}

    train_ds = _dataset(data.train, label2id).with_transform(train_transforms)
    test_ds = _dataset(data.test, label2id).with_transform(val_transforms)
    collate_watch = Stopwatch()
    collator = _CountingCollator(feature_extractor, watch=collate_watch)
    with tempfile.TemporaryDirectory(prefix="hf_ser_bench_trainer_") as out_dir:
        args = TrainingArguments(
            output_dir=out_dir,
            **trainer_arguments(
                batch_size=batch_size, epochs=epochs, lr=lr, warmup_ratio=warmup_ratio, seed=seed, bf16=bf16,
                group_by_length=group_by_length,
            ),
        )
        trainer = Trainer(
            model=model, args=args, train_dataset=train_ds, data_collator=collator, processing_class=feature_extractor
        )
        # With tqdm off the Trainer prints its logs to stdout, which would break `hf-ser bench --json`.
        trainer.remove_callback(PrinterCallback)
        with PeakMemory() as memory, CpuClock() as cpu:
            synchronize()
            out = trainer.train()
            synchronize()
        result.train_cpu_s, result.machine_busy = cpu.cpu_s, cpu.machine_busy
        result.train_time_s = float(out.metrics["train_runtime"])
        result.train_loss = float(out.training_loss)
        result.real_samples, result.computed_samples = collator.real, collator.computed
        result.train_audio_s = collator.real / SAMPLE_RATE
        result.data_wait_s = transform_watch.total_s + collate_watch.total_s
        result.peak_memory_mb = memory.peak_mb
        result.epoch_times_s = [result.train_time_s / epochs] * epochs  # the Trainer does not time epochs

        collator.real = 0
        with Stopwatch() as eval_watch:
            prediction = trainer.predict(test_ds)
            synchronize()
        result.eval_time_s = eval_watch.total_s
        result.eval_audio_s = collator.real / SAMPLE_RATE
    preds = np.asarray(prediction.predictions).argmax(axis=1).tolist()
    metrics = classification_metrics(list(prediction.label_ids), preds, list(data.labels))
    result.wa, result.ua = float(metrics["wa"]), float(metrics["ua"])
    return result
