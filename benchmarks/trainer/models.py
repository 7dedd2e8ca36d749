"""Benchmark model shapes, the shared random initialisation, and the FLOP model for MFU.

Both paths train the same backbone from the same seeded random weights: ``write_init`` saves one random
``Wav2Vec2Model`` with ``save_pretrained``; the baseline loads it into ``Wav2Vec2ForSequenceClassification`` and
hf_ser's ``build_model`` loads it as a local backbone path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from transformers import Wav2Vec2Config, Wav2Vec2Model

from hf_ser.models.shapes import shape_config


def _xls_r_300m() -> Wav2Vec2Config:
    """The exact XLS-R-300M architecture (24 layers, hidden 1024): the GPU benchmark."""
    return shape_config("xls-r-300m")


def _xlsr_cpu() -> Wav2Vec2Config:
    """XLSR architecture, narrowed for a 2-core CPU: the same 7-layer layer-norm CNN (kernels 10,3,3,3,3,2,2,
    strides 5,2,2,2,2,2,2: 50 frames per second) with 64 channels instead of 512, pre-norm ("stable layer
    norm") transformer layers of hidden 256, FFN 1024, 4 heads (the ratios of XLSR's 1024/4096/16), positional
    conv kernel 128 in 16 groups. The depth is set by the benchmark (``--layers``)."""
    config = shape_config("xls-r-300m")
    config.conv_dim = (64,) * 7
    config.hidden_size = 256
    config.intermediate_size = 1024
    config.num_attention_heads = 4
    return config


def _tiny() -> Wav2Vec2Config:
    """hf_ser's ``shape:tiny`` (XLSR architecture, hidden 32): for tests and smoke runs, not for timings."""
    return shape_config("tiny")


BENCH_MODELS: dict[str, Callable[[], Wav2Vec2Config]] = {
    "xlsr-cpu": _xlsr_cpu,
    "tiny": _tiny,
    "xls-r-300m": _xls_r_300m,
}


def bench_config(name: str, *, num_layers: int | None) -> Wav2Vec2Config:
    """The backbone config of benchmark model ``name`` with ``num_layers`` transformer layers (None: as is).

    Layerdrop is off for both paths (random layer skipping makes step times noisy and is not what we time);
    SpecAugment keeps the checkpoint's ``mask_time_prob``.

    Raises:
        KeyError: unknown name (the message lists the valid ones).
    """
    if name not in BENCH_MODELS:
        raise KeyError(f"unknown benchmark model {name!r}; choose one of {sorted(BENCH_MODELS)}")
    config = BENCH_MODELS[name]()
    if num_layers is not None:
        config.num_hidden_layers = num_layers
    config.layerdrop = 0.0
    return config


def write_init(config: Wav2Vec2Config, out_dir: str | Path, *, seed: int) -> Path:
    """Save a seeded random ``Wav2Vec2Model`` of ``config``: the shared starting point of both paths."""
    torch.manual_seed(seed)
    model = Wav2Vec2Model(config)
    out = Path(out_dir)
    model.save_pretrained(out, safe_serialization=True)
    return out


def train_gflops_per_audio_s(*, num_layers: int, num_frozen_layers: int) -> float:
    """Training GFLOPs per 16 kHz audio-second of an XLS-R-300M-shaped model (docs/performance.md formula).

    ``F = 4.9 + 0.84 * m_pos + 3.91 * trainable + 1.30 * frozen`` with ``m_pos = 3`` when the positional conv
    trains (no frozen layers), else 1. Valid for the 1024-wide shape only.
    """
    m_pos = 1 if num_frozen_layers > 0 else 3
    return 4.9 + 0.84 * m_pos + 3.91 * (num_layers - num_frozen_layers) + 1.30 * num_frozen_layers


def cached_train_gflops_per_audio_s(*, num_layers: int, num_frozen_layers: int) -> float:
    """The same per audio-second when the frozen-output cache serves the input of the first trainable layer:
    only the trainable layers run (``3.91 * trainable``). Ratios to ``train_gflops_per_audio_s`` are the cache's
    FLOP bound: against epoch 1 of the same run, and (``num_frozen_layers=0`` there) against full fine-tuning."""
    return 3.91 * (num_layers - num_frozen_layers)


# Dense bf16 peak of one H100 SXM / H200 (docs/performance.md).
PEAK_BF16_TFLOPS = 989.0
