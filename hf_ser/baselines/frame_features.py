"""Frame-level features computed inside the baseline models from the padded waveform batch.

* ``FrameFeatures("mfcc")``: MFCC with deltas and delta-deltas, at one or several analysis window sizes (same
  hop, so the frames line up and the window sizes are stacked along the feature axis).
* ``FrameFeatures("logmel")``: log mel spectrogram.
* ``RunningStandardizer``: per-feature zero-mean / unit-variance with statistics accumulated over the training
  batches (saved with the weights), so MFCC c0 (hundreds) and c12 (units) reach the network on one scale.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from hf_ser.audio import SAMPLE_RATE

FRAME_FEATURES = ("mfcc", "logmel")


def _next_power_of_two(n: int) -> int:
    return 1 << (n - 1).bit_length()


class FrameFeatures(nn.Module):
    """Waveform batch -> frame features and frame mask, computed clip by clip on the real samples only.

    Per clip, so a clip's features never depend on the padding or on the other clips of its batch (the
    STFT's edge reflection, dB clipping and deltas all see only the clip). The window, mel filterbank and DCT
    are rebuilt from the settings on first use per device rather than stored as buffers: they are fixed
    functions of the settings, and buffers built in ``__init__`` break ``from_pretrained``'s meta-device init.

    Args:
        kind: "mfcc" (MFCC + delta + delta-delta per window size) or "logmel".
        win_ms: analysis window lengths in ms; several give the multi-resolution MFCC of the RNN baselines.
        hop_ms: frame hop in ms (shared by all windows, so their frames line up).
        n_mfcc: MFCC coefficients per window ("mfcc").
        n_mels: mel bands (the MFCC filterbank for "mfcc"; the output size for "logmel").
        deltas: append delta and delta-delta ("mfcc").
        sample_rate: waveform rate in Hz.
    """

    def __init__(
        self,
        kind: str,
        *,
        win_ms: list[float] | tuple[float, ...] = (25.0,),
        hop_ms: float = 10.0,
        n_mfcc: int = 13,
        n_mels: int = 40,
        deltas: bool = True,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        super().__init__()
        if kind not in FRAME_FEATURES:
            raise KeyError(f"Unknown frame features {kind!r}; choose one of {list(FRAME_FEATURES)}")
        if not win_ms:
            raise ValueError("win_ms must list at least one window size")
        if kind == "mfcc" and n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} needs at least as many mel bands, got n_mels={n_mels}")
        self.kind = kind
        self.sample_rate = sample_rate
        self.hop = int(round(hop_ms * sample_rate / 1000))
        self.win_lengths = [int(round(float(w) * sample_rate / 1000)) for w in win_ms]
        self.n_mfcc, self.n_mels = n_mfcc, n_mels
        self.deltas = deltas and kind == "mfcc"
        per_window = n_mfcc * (3 if self.deltas else 1) if kind == "mfcc" else n_mels
        self.output_size = per_window * len(self.win_lengths)
        self._tables: dict[tuple, tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = {}

    def _table(self, win_length: int, device: torch.device):
        """(window, mel filterbank (freqs, mels), DCT (mels, n_mfcc) or None) for one window size."""
        key = (win_length, str(device))
        if key not in self._tables:
            n_fft = _next_power_of_two(win_length)
            window = torch.hann_window(win_length, device=device)
            fbank = torchaudio.functional.melscale_fbanks(
                n_fft // 2 + 1, 0.0, self.sample_rate / 2, self.n_mels, self.sample_rate
            ).to(device)
            dct = torchaudio.functional.create_dct(self.n_mfcc, self.n_mels, "ortho").to(device) if self.kind == "mfcc" else None
            self._tables[key] = (window, fbank, dct)
        return self._tables[key]

    def clip_features(self, wave: torch.Tensor) -> torch.Tensor:
        """One clip's features. wave: (samples,) -> (samples // hop + 1, output_size)."""
        frames = wave.shape[0] // self.hop + 1
        parts = []
        for win_length in self.win_lengths:
            window, fbank, dct = self._table(win_length, wave.device)
            n_fft = _next_power_of_two(win_length)
            # Reflect padding needs more than n_fft / 2 samples: zero-extend very short clips.
            padded = F.pad(wave, (0, max(0, n_fft - wave.shape[0])))
            spec = torch.stft(padded, n_fft, self.hop, win_length, window, center=True, return_complex=True)
            mel = fbank.T @ spec[:, :frames].abs().pow(2)  # (mels, frames)
            if self.kind == "logmel":
                parts.append(torch.log(mel + 1e-6))
                continue
            coeffs = dct.T @ (10.0 * torch.log10(mel.clamp(min=1e-10)))  # (n_mfcc, frames), as torchaudio's MFCC
            if self.deltas:
                delta = torchaudio.functional.compute_deltas(coeffs)
                coeffs = torch.cat([coeffs, delta, torchaudio.functional.compute_deltas(delta)], dim=0)
            parts.append(coeffs)
        return torch.cat(parts, dim=0).T

    @torch.no_grad()
    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame features of a padded batch.

        Args:
            input_values: (batch, samples) waveform.
            attention_mask: (batch, samples), 1 on real samples; None: no padding.

        Returns:
            features: (batch, frames, output_size), zero on padding frames.
            frame_mask: (batch, frames) bool, True on real frames.
        """
        batch, samples = input_values.shape
        if attention_mask is None:
            lengths = [samples] * batch
        else:
            lengths = [max(int(n), 1) for n in attention_mask.long().sum(dim=1).tolist()]
        clips = [self.clip_features(input_values[i, :n].float()) for i, n in enumerate(lengths)]
        frames = max(c.shape[0] for c in clips)
        features = input_values.new_zeros((batch, frames, self.output_size), dtype=torch.float32)
        frame_mask = torch.zeros((batch, frames), dtype=torch.bool, device=input_values.device)
        for i, clip in enumerate(clips):
            features[i, : clip.shape[0]] = clip
            frame_mask[i, : clip.shape[0]] = True
        return features, frame_mask


class RunningStandardizer(nn.Module):
    """Per-feature standardisation with exact running statistics of everything seen in training.

    In training mode each call first folds the batch's real entries into ``mean``/``var`` (pooled, not an
    exponential average: features are fixed, so the statistics converge to the training set's), then
    standardises. In eval mode the stored statistics are used. Works with batches of one clip, unlike BatchNorm.

    Args:
        size: feature dimension (the last axis).
    """

    def __init__(self, size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("var", torch.ones(size))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    def forward(self, values: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Standardise ``values: (..., size)``; ``mask: (...)`` bool marks the real entries (padding is ignored
        in the statistics and returned as zero)."""
        flat = values.reshape(-1, values.shape[-1]).float()
        keep = None if mask is None else mask.reshape(-1)
        if self.training:
            self._update(flat if keep is None else flat[keep])
        out = (values - self.mean) / torch.sqrt(self.var + self.eps)
        if mask is not None:
            out = out.masked_fill(~mask.unsqueeze(-1), 0.0)
        return out

    @torch.no_grad()
    def _update(self, rows: torch.Tensor) -> None:
        n = rows.shape[0]
        if n == 0:
            return
        batch_mean = rows.mean(dim=0)
        batch_var = rows.var(dim=0, unbiased=False)
        total = self.count + n
        # Chan et al. pooled update of mean and (population) variance.
        delta = batch_mean - self.mean
        new_mean = self.mean + delta * (n / total).float()
        m2 = self.var * self.count.float() + batch_var * n + delta**2 * (self.count * n / total).float()
        self.mean.copy_(new_mean)
        self.var.copy_(m2 / total.float())
        self.count.copy_(total)
