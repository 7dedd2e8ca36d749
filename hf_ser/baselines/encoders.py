"""Baseline encoders: waveform batch -> one vector per clip. The heads and losses live in ``modeling_baseline``.

Every encoder shares one interface::

    encoder = BASELINES[kind](**options)
    encoder.output_size                              # int
    encoder(input_values, attention_mask)            # (batch, samples), (batch, samples) -> (batch, output_size)

Adding a baseline is one class (or builder) here plus one entry in ``hf_ser.baselines.BASELINES``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from hf_ser.baselines.frame_features import FrameFeatures, RunningStandardizer
from hf_ser.baselines.issa_features import (
    ISSA_NUM_FEATURES,
    SAMPLE_RATE,
    IssaFeatureCache,
    default_feature_cache_dir,
)

RNN_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
RNN_POOLING = ("last", "mean")


def _real_waves(input_values: torch.Tensor, attention_mask: torch.Tensor | None) -> list[np.ndarray]:
    """Each clip's real samples as float32 numpy (padding cut off)."""
    values = input_values.detach().float().cpu().numpy()
    if attention_mask is None:
        return list(values)
    lengths = attention_mask.long().sum(dim=1).cpu().tolist()
    return [values[i, : max(int(n), 1)] for i, n in enumerate(lengths)]


def _feature_cache(feature_cache_dir: str | None) -> IssaFeatureCache:
    if feature_cache_dir == "auto":
        return IssaFeatureCache(default_feature_cache_dir())
    return IssaFeatureCache(None if feature_cache_dir in (None, "", "none") else Path(feature_cache_dir))


class _IssaEncoder(nn.Module):
    """Shared part of the 193-feature baselines: cached extraction and standardisation."""

    def __init__(self, feature_cache_dir: str | None) -> None:
        super().__init__()
        # Not a module or buffer: the cache is a side store of fixed inputs, never saved with the weights.
        self.feature_cache = _feature_cache(feature_cache_dir)
        self.standardize = RunningStandardizer(ISSA_NUM_FEATURES)

    def features(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """(batch, samples) waveform -> (batch, 193) standardised features."""
        vectors = np.stack([self.feature_cache.get(w) for w in _real_waves(input_values, attention_mask)])
        return self.standardize(torch.from_numpy(vectors).to(input_values.device))


class IssaCnnEncoder(_IssaEncoder):
    """Issa et al. (2020): the 193-vector read as a 1-channel sequence by a 1-D CNN.

    Args:
        channels: output channels of each Conv1d block (conv -> batch norm -> ReLU -> max-pool 2).
        kernel_size: convolution width.
        pooled_length: the last block's output is average-pooled to this length and flattened.
        dropout: dropout between blocks.
        feature_cache_dir: "auto" (``$HF_SER_CACHE/features/issa193``), a folder, or None (memory only).
    """

    def __init__(
        self,
        channels: list[int] | tuple[int, ...] = (64, 128),
        kernel_size: int = 5,
        pooled_length: int = 8,
        dropout: float = 0.2,
        feature_cache_dir: str | None = "auto",
    ) -> None:
        super().__init__(feature_cache_dir)
        blocks, in_channels = [], 1
        for out_channels in channels:
            blocks += [
                nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
                nn.BatchNorm1d(out_channels),
                nn.ReLU(),
                nn.MaxPool1d(2),
                nn.Dropout(dropout),
            ]
            in_channels = out_channels
        self.cnn = nn.Sequential(*blocks, nn.AdaptiveAvgPool1d(pooled_length), nn.Flatten())
        self.output_size = in_channels * pooled_length

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, samples) -> (batch, output_size)."""
        return self.cnn(self.features(input_values, attention_mask).unsqueeze(1))


class IssaMlpEncoder(_IssaEncoder):
    """The 193-vector through a multi-layer perceptron (the common MLP variant of the same features).

    Args:
        hidden_sizes: widths of the ReLU layers.
        dropout: dropout after each layer.
        feature_cache_dir: as ``IssaCnnEncoder``.
    """

    def __init__(
        self,
        hidden_sizes: list[int] | tuple[int, ...] = (256, 128),
        dropout: float = 0.2,
        feature_cache_dir: str | None = "auto",
    ) -> None:
        super().__init__(feature_cache_dir)
        layers, width = [], ISSA_NUM_FEATURES
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.mlp = nn.Sequential(*layers)
        self.output_size = width

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, samples) -> (batch, output_size)."""
        return self.mlp(self.features(input_values, attention_mask))


class RecurrentEncoder(nn.Module):
    """Frame features (MFCC+deltas or log-mel) -> RNN / GRU / LSTM, optionally bidirectional -> clip vector.

    Padding never reaches the recurrence: sequences are packed by their real frame counts.

    Args:
        features: "mfcc" or "logmel" (see ``FrameFeatures``).
        cell: key of ``RNN_CELLS``: "rnn", "gru" or "lstm".
        bidirectional: run a backward recurrence too (output size doubles).
        hidden_size: recurrent state width per direction.
        num_layers: stacked recurrent layers.
        pooling: "last" (final states of every direction) or "mean" (masked mean of the outputs).
        dropout: dropout between stacked layers and on the output.
        win_ms, hop_ms, n_mfcc, n_mels, deltas: frame features, see ``FrameFeatures``.
    """

    def __init__(
        self,
        features: str = "mfcc",
        cell: str = "lstm",
        bidirectional: bool = False,
        hidden_size: int = 128,
        num_layers: int = 1,
        pooling: str = "last",
        dropout: float = 0.2,
        win_ms: list[float] | tuple[float, ...] = (25.0,),
        hop_ms: float = 10.0,
        n_mfcc: int = 13,
        n_mels: int = 40,
        deltas: bool = True,
    ) -> None:
        super().__init__()
        if cell not in RNN_CELLS:
            raise KeyError(f"Unknown recurrent cell {cell!r}; choose one of {sorted(RNN_CELLS)}")
        if pooling not in RNN_POOLING:
            raise KeyError(f"Unknown recurrent pooling {pooling!r}; choose one of {list(RNN_POOLING)}")
        self.frames = FrameFeatures(features, win_ms=win_ms, hop_ms=hop_ms, n_mfcc=n_mfcc, n_mels=n_mels, deltas=deltas)
        self.standardize = RunningStandardizer(self.frames.output_size)
        self.rnn = RNN_CELLS[cell](
            self.frames.output_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, samples) -> (batch, output_size)."""
        feats, frame_mask = self.frames(input_values, attention_mask)
        feats = self.standardize(feats, frame_mask)
        lengths = frame_mask.sum(dim=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(feats, lengths, batch_first=True, enforce_sorted=False)
        outputs, state = self.rnn(packed)
        if self.pooling == "last":
            hidden = state[0] if isinstance(state, tuple) else state  # LSTM returns (h, c)
            # (layers * directions, batch, hidden): the top layer's final state of each direction.
            directions = 2 if self.rnn.bidirectional else 1
            pooled = torch.cat(list(hidden[-directions:]), dim=-1)
        else:
            padded, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, total_length=feats.shape[1])
            weights = frame_mask.to(padded.dtype).unsqueeze(-1)
            pooled = (padded * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return self.dropout(pooled)


class LogMelCnnEncoder(nn.Module):
    """Log-mel spectrogram as an image -> 2-D CNN blocks -> masked mean and max over time.

    Args:
        channels: output channels of each block (3x3 conv -> batch norm -> ReLU -> 2x2 max-pool).
        dropout: dropout on the output.
        n_mels, win_ms, hop_ms: log-mel features, see ``FrameFeatures``.
    """

    def __init__(
        self,
        channels: list[int] | tuple[int, ...] = (16, 32, 64),
        dropout: float = 0.2,
        n_mels: int = 64,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
    ) -> None:
        super().__init__()
        self.frames = FrameFeatures("logmel", win_ms=(win_ms,), hop_ms=hop_ms, n_mels=n_mels)
        self.standardize = RunningStandardizer(n_mels)
        blocks, in_channels = [], 1
        for out_channels in channels:
            blocks += [
                nn.Conv2d(in_channels, out_channels, 3, padding=1),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            in_channels = out_channels
        self.cnn = nn.Sequential(*blocks)
        self.num_pools = len(channels)
        self.dropout = nn.Dropout(dropout)
        self.output_size = 2 * in_channels

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, samples) -> (batch, output_size)."""
        feats, frame_mask = self.frames(input_values, attention_mask)
        feats = self.standardize(feats, frame_mask)  # (batch, frames, mels), padding = 0
        maps = self.cnn(feats.transpose(1, 2).unsqueeze(1))  # (batch, channels, mels', frames')
        per_frame = maps.mean(dim=2)  # (batch, channels, frames')
        # ceil_mode pooling: a frame' is real if any frame under it was.
        lengths = frame_mask.sum(dim=1)
        for _ in range(self.num_pools):
            lengths = (lengths + 1) // 2
        steps = per_frame.shape[-1]
        mask = (torch.arange(steps, device=maps.device)[None, :] < lengths[:, None]).unsqueeze(1)
        weights = mask.to(per_frame.dtype)
        mean = (per_frame * weights).sum(dim=-1) / weights.sum(dim=-1).clamp(min=1.0)
        peak = per_frame.masked_fill(~mask, float("-inf")).amax(dim=-1)
        return self.dropout(torch.cat([mean, peak], dim=-1))


def mfcc_rnn(**options) -> RecurrentEncoder:
    """MFCC (+delta, delta-delta) recurrent baseline; ``cell`` rnn|gru|lstm, ``bidirectional``, ``win_ms`` list."""
    return RecurrentEncoder(features="mfcc", **options)


def logmel_bilstm(**options) -> RecurrentEncoder:
    """Log-mel bidirectional LSTM baseline (64 mel bands, masked mean over the outputs by default)."""
    defaults = {"cell": "lstm", "bidirectional": True, "n_mels": 64, "pooling": "mean"}
    return RecurrentEncoder(features="logmel", **{**defaults, **options})


__all__ = [
    "RNN_CELLS",
    "SAMPLE_RATE",
    "IssaCnnEncoder",
    "IssaMlpEncoder",
    "LogMelCnnEncoder",
    "RecurrentEncoder",
    "logmel_bilstm",
    "mfcc_rnn",
]
