"""The windowing rule and file decoding shared by every inference path, without torch.

``hf_ser.evaluation.inference`` (the torch path: training, ``evaluate``, ``matrix``) and ``hf_ser.inference``
(``hf_ser.load``, ``predict``, the ONNX backend that must run where torch is not installed) cut clips into the
same windows and average them the same way: this module is that rule, importable with numpy, soundfile and soxr
only.

**Windowing rule.** A clip of at most ``window`` samples is one window, whole. A longer clip is cut into
windows of exactly ``window`` samples that start every ``window // 2`` samples (50 % overlap); the last
window ends at the clip's end, so every sample is seen. The clip's logits are the mean of its windows'
logits (its label: their arg-max). ``window`` is the training run's ``data.max_duration_s``, saved in the
model's config as ``inference_window_s`` (``DEFAULT_WINDOW_S`` for models without it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hf_ser.audio import AudioError, GitLfsPointerError, SeekableWave, load_audio, read_info, silence_reason

DEFAULT_WINDOW_S = 20.0  # the recipe default of data.max_duration_s
WINDOW_CONFIG_KEY = "inference_window_s"
GROUP_WINDOWS = 32  # files decoded at once hold about this many windows (more only when one file is longer)
# A file longer than this is never decoded whole: its windows are decoded one at a time (``SeekableWave``).
SEEKABLE_ABOVE_S = 600.0


def clip_windows(n_samples: int, window: int) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of a clip of ``n_samples`` under the windowing rule (module docstring)."""
    if window <= 0:
        raise ValueError(f"window must be positive, got {window} samples")
    if n_samples <= window:
        return [(0, n_samples)]
    hop = max(1, window // 2)
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] + window < n_samples:
        starts.append(n_samples - window)
    return [(s, s + window) for s in starts]


def window_seconds(config: Any, override: float | None = None) -> float:
    """Window length for a model: ``override``, else its config's ``inference_window_s``, else the default."""
    value = override if override is not None else getattr(config, WINDOW_CONFIG_KEY, None)
    value = float(value) if value is not None else DEFAULT_WINDOW_S
    if value <= 0:
        raise ValueError(f"window length must be positive, got {value} s")
    return value


def too_short(n_samples: int, minimum: int) -> str | None:
    """The skip reason for a clip shorter than ``minimum`` samples, or ``None``."""
    if n_samples < minimum:
        return f"too short: {n_samples} samples < {minimum} (at 16 kHz; the model's CNN receptive field)"
    return None


def clip_means(index: np.ndarray, window: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per clip, the mean of its windows' ``values`` (a window gathered twice counts once).

    Returns:
        ``(clips, means)``: the sorted clip indices and ``(len(clips), ...)`` means.
    """
    _, first = np.unique(window, return_index=True)
    index, values = index[first], values[first]
    clips, inverse = np.unique(index, return_inverse=True)
    sums = np.zeros((len(clips), *values.shape[1:]), dtype=np.float64)
    np.add.at(sums, inverse, values)
    counts = np.bincount(inverse, minlength=len(clips)).reshape(-1, *([1] * (values.ndim - 1)))
    return clips, (sums / counts).astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, computed in float64 (probabilities that sum to 1 at print precision)."""
    z = np.exp(logits.astype(np.float64) - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def decode_checked(path: str | Path, sampling_rate: int, minimum: int = 1) -> tuple[np.ndarray | SeekableWave | None, str | None]:
    """Decode one file; ``(wave, None)``, or ``(None, reason)`` for an unreadable, silent or too short one.

    A file whose header says it lasts more than ``SEEKABLE_ABOVE_S`` is not decoded: its wave is a
    ``hf_ser.audio.SeekableWave`` that decodes only the windows scored, so memory stays that of a window.
    """
    try:
        info = read_info(path)
        if info.duration_s > SEEKABLE_ABOVE_S:
            wave = SeekableWave(path, sampling_rate)
            reason = silence_reason(np.array([wave.peak()], np.float32))
            return (None, reason) if reason else (wave, None)
        wave, _ = load_audio(path, target_sr=sampling_rate)
    except (AudioError, GitLfsPointerError) as e:
        return None, str(getattr(e, "reason", None) or e)
    except OSError as e:
        return None, f"cannot open ({type(e).__name__}: {e})"
    reason = silence_reason(wave) or too_short(len(wave), minimum)
    return (None, reason) if reason else (wave, None)


def decoded_groups(
    paths: Sequence[Any],
    *,
    sampling_rate: int,
    window: int,
    minimum: int = 1,
    decode: Callable[[Any], tuple[np.ndarray | None, str | None]] | None = None,
) -> Iterator[list[tuple[int, np.ndarray | None, str | None]]]:
    """Decode ``paths`` in order, a few at a time: yields groups of ``(position, wave, None)`` or
    ``(position, None, reason)`` holding about ``GROUP_WINDOWS`` windows (one long file may hold more).

    The caller scores a group and drops it before the next one is decoded: memory is bounded by the group.
    ``decode(item) -> (wave, None) | (None, reason)`` replaces ``decode_checked`` for inputs that are not
    paths (``hf_ser.load(...).predict`` takes in-memory arrays too).
    """
    group: list[tuple[int, np.ndarray | None, str | None]] = []
    held = 0
    for pos, path in enumerate(paths):
        wave, reason = decode(path) if decode is not None else decode_checked(path, sampling_rate, minimum)
        group.append((pos, wave, reason))
        held += len(clip_windows(len(wave), window)) if wave is not None else 0
        if held >= GROUP_WINDOWS:
            yield group
            group, held = [], 0
    if group:
        yield group
