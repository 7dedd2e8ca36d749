"""Speech in long recordings: Silero VAD run by onnxruntime, and its speech spans fitted to ``[min_s, max_s]``.

The ``silero-vad`` package ships the model as an ONNX file; hf_ser loads that file directly with onnxruntime
(the package's own Python API imports torch, which the ONNX backend must not need). The model reads 512-sample
frames at 16 kHz with 64 samples of context and a recurrent state, and gives one speech probability per frame
(32 ms). Frames are fed as the audio is decoded, so memory does not grow with the recording.

Spans follow Silero's own rule (``get_speech_timestamps``): speech starts when a frame reaches ``threshold``
and ends after ``min_silence_s`` below ``threshold - 0.15``; spans shorter than ``min_speech_s`` are noise; each
is padded by ``pad_s``. ``fit_spans`` then merges neighbours closer than ``merge_gap_s`` while the result stays
within ``max_s``, splits longer spans into equal parts of at most ``max_s``, and leaves out spans still shorter
than ``min_s`` (returned apart, so the caller can report them).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hf_ser.audio import SAMPLE_RATE
from hf_ser.errors import UserError

FRAME = 512  # samples per VAD frame at 16 kHz
CONTEXT = 64  # samples of the previous frame the model sees
VAD_MODEL_FILE = "silero_vad.onnx"
INSTALL_HINT = "pip install 'hf_ser[vad]' (or: pip install silero-vad)"

Span = tuple[int, int]  # (start, end) in samples at 16 kHz


class VadMissingError(UserError, ImportError):
    """``--segment vad`` without the silero-vad package."""


def bundled_model() -> Path:
    """The ONNX model file inside the installed ``silero-vad`` package (found without importing the package,
    whose ``__init__`` imports torch).

    Raises:
        VadMissingError: the package is not installed.
    """
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise VadMissingError(f"segmenting by voice activity needs the silero-vad package: {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / VAD_MODEL_FILE
        if path.is_file():
            return path
    raise VadMissingError(f"the installed silero-vad package has no data/{VAD_MODEL_FILE}; reinstall it: {INSTALL_HINT}")


@dataclass(frozen=True)
class VadSettings:
    """Silero's span rule (module docstring) and the ``[min_s, max_s]`` fitting of ``fit_spans``."""

    threshold: float = 0.5
    min_speech_s: float = 0.25
    min_silence_s: float = 0.1
    pad_s: float = 0.03
    merge_gap_s: float = 1.0
    min_s: float = 1.0
    max_s: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise UserError(f"VAD threshold {self.threshold} is outside (0, 1); 0.5 is Silero's default")
        if not 0.0 < self.min_s < self.max_s:
            raise UserError(f"segment lengths need 0 < min_s < max_s, got min_s={self.min_s}, max_s={self.max_s}")


class SileroVad:
    """Silero VAD on onnxruntime: ``probabilities(blocks)`` gives one speech probability per 512-sample frame."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        from hf_ser.inference.backends import onnx_session

        self.session = onnx_session(model_path or bundled_model())

    def probabilities(self, blocks: Iterable[np.ndarray]) -> np.ndarray:
        """Speech probability of every 512-sample frame of the concatenated 16 kHz ``blocks`` (the last,
        partial frame zero-padded): ``(ceil(samples / 512),)`` float32."""
        state = np.zeros((2, 1, 128), dtype=np.float32)
        context = np.zeros(CONTEXT, dtype=np.float32)
        rate = np.array(SAMPLE_RATE, dtype=np.int64)
        probs: list[float] = []
        for block in _frames_of(blocks):
            x = np.concatenate([context, block])[None]
            out, state = self.session.run(None, {"input": x, "state": state, "sr": rate})
            probs.append(float(out.reshape(-1)[0]))
            context = block[-CONTEXT:]
        return np.asarray(probs, dtype=np.float32)


def _frames_of(blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    carry = np.zeros(0, dtype=np.float32)
    for block in blocks:
        buf = np.concatenate([carry, np.asarray(block, dtype=np.float32)])
        whole = len(buf) // FRAME * FRAME
        for i in range(0, whole, FRAME):
            yield buf[i : i + FRAME]
        carry = buf[whole:]
    if len(carry):
        yield np.pad(carry, (0, FRAME - len(carry)))


def speech_spans(probs: np.ndarray, n_samples: int, settings: VadSettings = VadSettings()) -> list[Span]:
    """Speech spans (samples at 16 kHz) from frame probabilities, by Silero's rule (module docstring)."""
    low = max(settings.threshold - 0.15, 0.01)
    min_silence = settings.min_silence_s * SAMPLE_RATE
    spans: list[Span] = []
    start: int | None = None
    quiet_from: int | None = None
    for i, p in enumerate(probs):
        pos = i * FRAME
        if p >= settings.threshold:
            quiet_from = None
            if start is None:
                start = pos
        elif start is not None and p < low:
            quiet_from = pos if quiet_from is None else quiet_from
            if pos + FRAME - quiet_from >= min_silence:
                spans.append((start, quiet_from))
                start = quiet_from = None
    if start is not None:
        spans.append((start, n_samples))
    spans = [(s, e) for s, e in spans if e - s >= settings.min_speech_s * SAMPLE_RATE]
    pad = int(settings.pad_s * SAMPLE_RATE)
    padded: list[Span] = []
    for k, (s, e) in enumerate(spans):
        lo = max(0, s - pad, padded[-1][1] if padded else 0)
        hi = min(n_samples, e + pad, spans[k + 1][0] if k + 1 < len(spans) else n_samples)
        padded.append((lo, hi))
    return padded


def fit_spans(spans: list[Span], settings: VadSettings = VadSettings()) -> tuple[list[Span], list[Span]]:
    """Spans merged and split to ``[min_s, max_s]`` (module docstring): ``(kept, too_short)``."""
    max_len = int(settings.max_s * SAMPLE_RATE)
    min_len = int(settings.min_s * SAMPLE_RATE)
    gap = settings.merge_gap_s * SAMPLE_RATE
    merged: list[Span] = []
    for s, e in spans:
        if merged and s - merged[-1][1] <= gap and e - merged[-1][0] <= max_len:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    kept: list[Span] = []
    for s, e in merged:
        parts = max(1, math.ceil((e - s) / max_len))
        edges = [s + round(k * (e - s) / parts) for k in range(parts + 1)]
        kept.extend(zip(edges[:-1], edges[1:]))
    return [sp for sp in kept if sp[1] - sp[0] >= min_len], [sp for sp in kept if sp[1] - sp[0] < min_len]


def cut_spans(blocks: Iterable[np.ndarray], spans: list[Span]) -> Iterator[tuple[Span, np.ndarray]]:
    """The samples of each span (sorted, non-overlapping) from a stream of blocks, holding at most one span
    plus one block in memory."""
    pending = iter(spans)
    current = next(pending, None)
    offset = 0  # sample index of buf[0]
    buf = np.zeros(0, dtype=np.float32)
    for block in blocks:
        if current is None:
            return
        buf = np.concatenate([buf, block])
        while current is not None and offset + len(buf) >= current[1]:
            yield current, buf[current[0] - offset : current[1] - offset].copy()
            current = next(pending, None)
        keep_from = (current[0] - offset) if current is not None else len(buf)
        keep_from = max(0, min(keep_from, len(buf)))
        buf, offset = buf[keep_from:], offset + keep_from
    if current is not None and current[0] < offset + len(buf):  # spans reaching the end of the audio
        yield current, buf[current[0] - offset :].copy()
