"""Label audio files or folders with a saved model (the library half of ``hf-ser predict MODEL PATH... [--json]``).

Works with any audio-classification model ``from_pretrained`` can load (a run's ``model/``, a Hub repo id),
on any file soundfile reads, at any sample rate, mono or not: decoding goes through ``hf_ser.audio``.
Recordings longer than ``max_length_s`` are cut into windows of about ``window_s`` at their quietest points
(frame-energy VAD), each window is labelled, and the recording's label is the duration-weighted mean of the
windows' probabilities. Files that cannot be read are reported, not fatal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hf_ser.audio import TARGET_SR, AudioError, GitLfsPointerError, load_audio, silence_reason

logger = logging.getLogger(__name__)

# Extensions picked up when walking folders (files named explicitly are always tried).
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64"}
)
FRAME_S = 0.02  # energy frame for choosing cut points
MIN_SEGMENT_S = 1.0  # a shorter tail is merged into the previous window


@dataclass
class SegmentPrediction:
    """One window of a long recording."""

    start_s: float
    end_s: float
    label: str
    scores: dict[str, float]


@dataclass
class FilePrediction:
    """The result for one file: ``error`` is set (and the rest empty) when it could not be labelled."""

    path: str
    label: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    segments: list[SegmentPrediction] = field(default_factory=list)
    error: str | None = None


def collect_audio_paths(paths: list[str | Path]) -> list[Path]:
    """Expand folders (recursively, audio extensions only) and keep files as given, in a stable order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS))
        else:
            out.append(p)
    return out


def split_at_low_energy(wave: np.ndarray, sample_rate: int, *, window_s: float, max_length_s: float) -> list[tuple[int, int]]:
    """Cut a recording into windows of at most ``window_s`` at low-energy points.

    Each cut is placed at the quietest ``FRAME_S`` frame between half a window and a full window after the
    previous cut, so windows end in pauses rather than mid-word.

    Args:
        wave: ``(samples,)`` mono waveform.
        sample_rate: its rate.
        window_s: longest window.
        max_length_s: recordings up to this long stay whole.

    Returns:
        ``[(start_sample, end_sample), ...]`` covering the whole recording, in order.
    """
    n = len(wave)
    if n <= max_length_s * sample_rate:
        return [(0, n)]
    frame = max(1, int(FRAME_S * sample_rate))
    n_frames = n // frame
    energy = np.sqrt(np.mean(wave[: n_frames * frame].reshape(n_frames, frame).astype(np.float64) ** 2, axis=1))
    window = int(window_s * sample_rate)
    cuts = [0]
    while n - cuts[-1] > window:
        lo, hi = (cuts[-1] + window // 2) // frame, (cuts[-1] + window) // frame
        quietest = lo + int(np.argmin(energy[lo:hi]))
        cuts.append(quietest * frame + frame // 2)
    if n - cuts[-1] < MIN_SEGMENT_S * sample_rate and len(cuts) > 1:
        cuts.pop()
    cuts.append(n)
    return list(zip(cuts[:-1], cuts[1:]))


class _Classifier:
    """A loaded model + feature extractor that turns waveforms into label probabilities."""

    def __init__(self, model_dir_or_id: str | Path, device: str | None):
        import torch
        from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModelForAudioClassification.from_pretrained(str(model_dir_or_id), trust_remote_code=True)
        self.model.to(self.device).eval()
        self.extractor = AutoFeatureExtractor.from_pretrained(str(model_dir_or_id), trust_remote_code=True)
        self.sample_rate = int(getattr(self.extractor, "sampling_rate", TARGET_SR) or TARGET_SR)
        id2label = self.model.config.id2label
        self.labels = [id2label[i] for i in range(len(id2label))]

    def probabilities(self, waves: list[np.ndarray], batch_size: int) -> np.ndarray:
        """``waves``: list of ``(samples,)``; returns ``(len(waves), num_labels)`` softmax probabilities."""
        out = np.zeros((len(waves), len(self.labels)), dtype=np.float64)
        # Sort by length so each batch pads little.
        order = sorted(range(len(waves)), key=lambda i: len(waves[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            inputs = self.extractor(
                [waves[i] for i in idx], sampling_rate=self.sample_rate, padding=True, return_tensors="pt"
            )
            inputs = {k: v.to(self.device) for k, v in inputs.items()}
            with self.torch.inference_mode():
                logits = self.model(**inputs).logits.float()
            out[idx] = self.torch.softmax(logits, dim=-1).cpu().numpy()
        return out


def _scores(labels: list[str], probs: np.ndarray) -> dict[str, float]:
    return {lab: round(float(p), 6) for lab, p in sorted(zip(labels, probs), key=lambda t: -t[1])}


def predict_files(
    model_dir_or_id: str | Path,
    paths: list[str | Path],
    *,
    batch_size: int = 8,
    device: str | None = None,
    window_s: float = 10.0,
    max_length_s: float = 20.0,
) -> list[FilePrediction]:
    """Label every audio file in ``paths`` (files or folders).

    Args:
        model_dir_or_id: a saved model folder or a Hub repo id (loaded with ``trust_remote_code=True``).
        paths: files and/or folders (searched recursively for audio extensions).
        batch_size: windows per forward pass.
        device: torch device; default CUDA when available, else CPU.
        window_s: window length for recordings longer than ``max_length_s``.
        max_length_s: recordings up to this long are labelled whole.

    Returns:
        One :class:`FilePrediction` per file, in input order; unreadable files carry ``error``.
    """
    if window_s <= 0 or max_length_s < window_s:
        raise ValueError(f"need 0 < window_s <= max_length_s, got window_s={window_s}, max_length_s={max_length_s}")
    classifier = _Classifier(model_dir_or_id, device)
    files = collect_audio_paths(paths)
    results: list[FilePrediction] = []
    pieces: list[tuple[int, int, int]] = []  # (result index, start, end) of each window to classify
    waves: list[np.ndarray] = []
    for path in files:
        result = FilePrediction(path=str(path))
        results.append(result)
        try:
            wave, sr = load_audio(path, target_sr=classifier.sample_rate)
        except (AudioError, GitLfsPointerError) as e:
            result.error = str(getattr(e, "reason", e))
            continue
        except OSError as e:
            result.error = f"cannot open ({type(e).__name__}: {e})"
            continue
        result.duration_s = round(len(wave) / sr, 3)
        silent = silence_reason(wave)
        if silent:
            result.error = silent
            continue
        for start, end in split_at_low_energy(wave, sr, window_s=window_s, max_length_s=max_length_s):
            pieces.append((len(results) - 1, start, end))
            waves.append(wave[start:end])
    probs = classifier.probabilities(waves, batch_size) if waves else np.zeros((0, len(classifier.labels)))

    by_file: dict[int, list[int]] = {}
    for k, (i, _, _) in enumerate(pieces):
        by_file.setdefault(i, []).append(k)
    sr = classifier.sample_rate
    for i, ks in by_file.items():
        result = results[i]
        lengths = np.array([pieces[k][2] - pieces[k][1] for k in ks], dtype=np.float64)
        overall = (probs[ks] * lengths[:, None]).sum(axis=0) / lengths.sum()
        result.scores = _scores(classifier.labels, overall)
        result.label = classifier.labels[int(np.argmax(overall))]
        if len(ks) > 1:
            result.segments = [
                SegmentPrediction(
                    start_s=round(pieces[k][1] / sr, 3),
                    end_s=round(pieces[k][2] / sr, 3),
                    label=classifier.labels[int(np.argmax(probs[k]))],
                    scores=_scores(classifier.labels, probs[k]),
                )
                for k in ks
            ]
    for r in results:
        if r.error:
            logger.warning("could not label %s: %s", r.path, r.error)
    return results
