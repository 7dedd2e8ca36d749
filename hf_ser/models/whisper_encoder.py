"""Whisper encoder as an hf_ser backbone: the log-mel front end inside the model, variable lengths, no 30-s pad.

Every hf_ser model takes a (normalised) 16 kHz waveform plus a sample-level attention mask: training's collator,
``pipeline("audio-classification")`` (through the saved ``Wav2Vec2FeatureExtractor``) and the ONNX export all feed
exactly that. For a Whisper backbone the log-mel spectrogram is therefore computed here, inside the model, with
Whisper's own recipe (``WhisperFeatureExtractor``): 25 ms Hann window (n_fft 400), 10 ms hop, power spectrum,
Slaney mel filters (80 or 128 bins, 0-8 kHz), log10 clamped at 1e-10, floor at (peak - 8), then (x + 4) / 4.
The STFT is a strided conv1d against a fixed DFT basis (exportable to ONNX, no complex numbers).

Variable lengths: Whisper's feature extractor pads every clip to 30 s and its encoder attends over all 1500
frames. We do not: each clip is encoded over its own frames only, with the positional embeddings truncated to the
batch's length (``embed_positions.weight[:T]``) and the padded frames masked out of attention. Why: the cost
follows the clip's length (a 3-s clip costs about a tenth of a 30-s window), and a clip alone and the same clip in
a padded batch give the same output. Everything below the attention is computed exactly as Whisper computes it
for the clip padded to 30 s: the waveform is zero-padded after the clip (Whisper pads with zeros too; the STFT's
reflect padding is applied at the start only, as in Whisper), the log-mel peak is the clip's own (zero padding
only adds -10 floor frames, which never raise the peak), and the two encoder convs read the same neighbouring
frames at the clip's end. The one departure from pretraining is that real frames no longer attend to the
trailing silence of a 30-s window. Clips longer than 30 s do not fit the 1500 positions; they are cut to their
first 30 s (with a warning). At the 30-s boundary itself Whisper's STFT reflects the signal where we pad zeros:
the last of the 1500 frames of a clip of 30 s or more differs slightly (about 1e-3, tested).

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders, so it imports only
``torch`` and ``transformers``.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers.audio_utils import mel_filter_bank

logger = logging.getLogger(__name__)

N_FFT = 400
HOP_LENGTH = 160
SAMPLING_RATE = 16_000  # hf_ser.audio.SAMPLE_RATE; this file is saved with the model and cannot import hf_ser
CONV_STRIDE = 2  # the encoder's second conv halves the frame rate: 100 mel frames/s -> 50 encoder frames/s
# Encoder-only use of an encoder-decoder model: the log-mel front end runs inside the model.
WHISPER_MODEL_TYPE = "whisper"


def spec_augment_problem(model_type: str, mask_time_prob: float | None) -> str | None:
    """Why ``mask_time_prob`` cannot be used with a backbone of ``model_type`` (None: it can). The one rule, read by
    the builder (which refuses) and by the recipe check (which reports it before any audio is decoded)."""
    if model_type == WHISPER_MODEL_TYPE and mask_time_prob:
        return (
            f"mask_time_prob={mask_time_prob}: SpecAugment is not available for Whisper backbones; "
            "set model.mask_time_prob to null or 0"
        )
    return None


class WhisperLogMel(nn.Module):
    """Whisper's log-mel spectrogram of a zero-padded batch, each clip normalised over its own frames.

    Args:
        num_mel_bins: 80 (Whisper up to large-v2) or 128 (large-v3).
        max_frames: Whisper's window in mel frames (3000 = 30 s); frames past it are zeros, as the end of
            Whisper's fixed-size input is to its first conv.
    """

    def __init__(self, num_mel_bins: int, max_frames: int = 3000) -> None:
        super().__init__()
        self.max_frames = max_frames
        bins = N_FFT // 2 + 1
        window = torch.hann_window(N_FFT, periodic=True, dtype=torch.float64)
        angle = 2 * math.pi * torch.outer(torch.arange(bins, dtype=torch.float64), torch.arange(N_FFT, dtype=torch.float64)) / N_FFT
        basis = torch.cat([torch.cos(angle) * window, -torch.sin(angle) * window])  # (2 * bins, n_fft)
        # Persistent (saved with the weights): from_pretrained builds the model on the meta device, where a
        # non-persistent buffer computed here would come back as zeros.
        self.register_buffer("dft_basis", basis.float().unsqueeze(1))
        filters = mel_filter_bank(
            num_frequency_bins=bins,
            num_mel_filters=num_mel_bins,
            min_frequency=0.0,
            max_frequency=8000.0,
            sampling_rate=SAMPLING_RATE,
            norm="slaney",
            mel_scale="slaney",
        )
        self.register_buffer("mel_filters", torch.tensor(filters.T, dtype=torch.float32))

    def forward(self, waveform: torch.Tensor, sample_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-mel features and the number of real mel frames per clip.

        Args:
            waveform: (batch, samples) float, 16 kHz.
            sample_mask: (batch, samples), nonzero on real samples.

        Returns:
            features: (batch, num_mel_bins, frames) with frames >= real frames + 2 for every clip (the encoder's
                convs read two frames past a clip's end, which hold what Whisper's 30-s padding gives there).
            mel_lengths: (batch,) long, real mel frames per clip (``samples // 160``, as Whisper counts them).
        """
        waveform = waveform * sample_mask.to(waveform.dtype)
        half = N_FFT // 2
        if waveform.shape[1] < half + 1:  # reflect padding needs half + 1 samples; shorter clips are zeros anyway
            waveform = F.pad(waveform, (0, half + 1 - waveform.shape[1]))
        start = waveform[:, 1 : half + 1].flip(-1)  # Whisper's centred STFT: reflect at the start
        # Zeros at the end (Whisper pads to 30 s with zeros), plus one hop so the longest clip also has the frames
        # its end needs.
        padded = torch.cat([start, waveform, waveform.new_zeros(waveform.shape[0], half + HOP_LENGTH)], dim=1)
        spectrum = F.conv1d(padded.unsqueeze(1), self.dft_basis.to(waveform.dtype), stride=HOP_LENGTH)
        bins = spectrum.shape[1] // 2
        power = spectrum[:, :bins] ** 2 + spectrum[:, bins:] ** 2  # (batch, bins, frames)
        mel = torch.matmul(self.mel_filters.to(power.dtype), power)  # (batch, mel, frames)
        log_spec = torch.log10(torch.clamp(mel, min=1e-10))
        outside = torch.arange(log_spec.shape[-1], device=log_spec.device) >= self.max_frames
        # Per clip: frames past its end are zeros (log 1e-10 = -10, the minimum), so they never set the peak.
        peak = log_spec.masked_fill(outside, -10.0).amax(dim=(1, 2), keepdim=True)
        log_spec = torch.maximum(log_spec, peak - 8.0)
        mel_lengths = torch.div(sample_mask.long().sum(dim=1), HOP_LENGTH, rounding_mode="floor")
        return ((log_spec + 4.0) / 4.0).masked_fill(outside, 0.0), mel_lengths


def whisper_conv_frontend(encoder: nn.Module, features: torch.Tensor, mel_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Whisper's two GELU convs over the log-mel features, cut to the batch's real frames.

    Args:
        encoder: a transformers ``WhisperEncoder``.
        features: (batch, num_mel_bins, mel frames) from ``WhisperLogMel``.
        mel_lengths: (batch,) real mel frames per clip.

    Returns:
        hidden: (batch, frames, d_model) conv output (before positional embeddings).
        frame_mask: (batch, frames) bool, True on a clip's real frames (``ceil(mel_lengths / 2)`` of them).
    """
    frame_lengths = torch.div(mel_lengths + CONV_STRIDE - 1, CONV_STRIDE, rounding_mode="floor")
    hidden = F.gelu(encoder.conv1(features))
    hidden = F.gelu(encoder.conv2(hidden)).transpose(1, 2)
    # From the batch's shape, not its data (export traces shapes): ceil(batch mel frames / 2), where the batch's
    # mel frames are the features' frames minus the two extra ones ``WhisperLogMel`` computes.
    hidden = hidden[:, : (features.shape[-1] - 1) // CONV_STRIDE]
    frame_mask = torch.arange(hidden.shape[1], device=hidden.device).unsqueeze(0) < frame_lengths.unsqueeze(1)
    return hidden, frame_mask


def max_samples(config) -> int:
    """Longest waveform (in samples) whose frames fit Whisper's positional table (30 s for every checkpoint)."""
    return config.max_source_positions * CONV_STRIDE * HOP_LENGTH
