"""The 193 hand-crafted utterance features of Issa et al. (2020), computed once per clip and cached.

Per clip, each librosa feature is averaged over time and the means are concatenated::

    40 MFCC + 12 chroma (STFT) + 128 mel power + 7 spectral contrast + 6 tonnetz (of the harmonic part) = 193

This is the widely copied ``extract_feature()`` recipe that "193 features" refers to (docs: corpora.md §2.7);
that Issa et al. used exactly these librosa defaults is unverified.

The harmonic/percussive separation behind tonnetz costs about 0.15 s per second of audio on one CPU core, so
``IssaFeatureCache`` keeps every clip's vector in memory and, optionally, as a ``.npy`` file keyed by a hash of
the waveform bytes. A clip's waveform is identical across epochs unless it is augmented or randomly cropped
(set ``data.max_duration_s`` above the longest clip), so each clip is computed once per machine.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from hf_ser.audio import SAMPLE_RATE
from hf_ser.fsutil import atomic_write_bytes

logger = logging.getLogger(__name__)

# Name -> size, in the order of the feature vector.
ISSA_FEATURE_SIZES: dict[str, int] = {"mfcc": 40, "chroma": 12, "mel": 128, "contrast": 7, "tonnetz": 6}
ISSA_NUM_FEATURES = sum(ISSA_FEATURE_SIZES.values())  # 193
# Bump when the extraction changes, so old cache files are not reused.
FEATURE_VERSION = "issa193-v1"


def issa_feature_slices() -> dict[str, slice]:
    """Where each feature group sits in the 193-vector, e.g. ``{"mfcc": slice(0, 40), ...}``."""
    out, start = {}, 0
    for name, size in ISSA_FEATURE_SIZES.items():
        out[name] = slice(start, start + size)
        start += size
    return out


def issa_features(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The 193-dimensional time-averaged feature vector of one clip.

    Args:
        wave: (samples,) float mono waveform.
        sample_rate: its rate in Hz.

    Returns:
        (193,) float32: MFCC 40, chroma 12, mel 128, spectral contrast 7, tonnetz 6.
    """
    import librosa  # imported here: it is slow to import and only this baseline needs it

    y = np.asarray(wave, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"expected a non-empty mono waveform, got shape {y.shape}")
    # librosa's defaults assume >= one 2048-sample frame; pad very short clips rather than fail.
    if y.size < 2048:
        y = np.pad(y, (0, 2048 - y.size))
    with warnings.catch_warnings():
        # librosa warns on silence (no pitch to estimate tuning from) and on clips shorter than tonnetz's lowest
        # constant-Q window; the time averages it returns are still defined (NaN is zeroed below).
        warnings.simplefilter("ignore", UserWarning)
        magnitude = np.abs(librosa.stft(y))
        mfcc = librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=40)
        chroma = librosa.feature.chroma_stft(S=magnitude, sr=sample_rate)
        mel = librosa.feature.melspectrogram(y=y, sr=sample_rate)
        contrast = librosa.feature.spectral_contrast(S=magnitude, sr=sample_rate)
        tonnetz = librosa.feature.tonnetz(y=librosa.effects.harmonic(y), sr=sample_rate)
    vector = np.concatenate([m.mean(axis=1) for m in (mfcc, chroma, mel, contrast, tonnetz)])
    # Silence gives 0/0 in chroma and tonnetz normalisation; a NaN would poison every batch it is in.
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def waveform_key(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> str:
    """Cache key of a waveform: a hash of its float32 bytes, its rate and the feature version."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{FEATURE_VERSION}:{sample_rate}:".encode())
    digest.update(np.ascontiguousarray(wave, dtype=np.float32).tobytes())
    return digest.hexdigest()


def default_feature_cache_dir() -> Path:
    """``$HF_SER_CACHE/features/issa193`` (default ``~/.cache/hf_ser/features/issa193``), next to the audio store."""
    return Path(os.environ.get("HF_SER_CACHE") or "~/.cache/hf_ser").expanduser() / "features" / "issa193"


class IssaFeatureCache:
    """Memory (and optionally disk) cache of ``issa_features`` keyed by ``waveform_key``.

    Args:
        cache_dir: folder for ``<key>.npy`` files; None keeps the cache in memory only.
        sample_rate: rate of the waveforms given to ``get``.
    """

    def __init__(self, cache_dir: str | Path | None = None, *, sample_rate: int = SAMPLE_RATE) -> None:
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.sample_rate = sample_rate
        self._memory: dict[str, np.ndarray] = {}
        self.computed = 0  # clips extracted (cache misses); tests and logs read it

    def get(self, wave: np.ndarray) -> np.ndarray:
        """The (193,) feature vector of ``wave``, computed on the first request only."""
        key = waveform_key(wave, self.sample_rate)
        vector = self._memory.get(key)
        if vector is not None:
            return vector
        path = self.cache_dir / f"{key[:2]}/{key}.npy" if self.cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                vector = np.load(path, allow_pickle=False)
            except (OSError, ValueError):  # a truncated file from a killed run: recompute it
                vector = None
        if vector is None or vector.shape != (ISSA_NUM_FEATURES,):
            vector = issa_features(wave, self.sample_rate)
            self.computed += 1
            if path is not None:
                # Write-then-rename: concurrent processes (DDP ranks) never read a half-written file.
                buffer = io.BytesIO()
                np.save(buffer, vector)
                atomic_write_bytes(path, buffer.getvalue(), durable=False)
        self._memory[key] = vector
        return vector

    def __len__(self) -> int:
        return len(self._memory)
