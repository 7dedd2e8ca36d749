"""Label audio files or folders with a saved model (the library half of ``hf-ser predict MODEL PATH... [--json]``).

Works with any audio-classification model ``from_pretrained`` can load (a run's ``model/``, a Hub repo id),
on any file soundfile reads, at any sample rate, mono or not: decoding goes through ``hf_ser.audio``.
Files are streamed (decoded a few at a time, classified, released) through ``hf_ser.evaluation.inference``,
with the same windowing as evaluation: a recording longer than the window (the model's training crop,
``data.max_duration_s``) is cut into windows with 50 % overlap, each window is labelled, and the recording's
scores are the softmax of the mean of its windows' logits. Files that cannot be read, are silent or are
shorter than the model CNN's receptive field are reported per file, not fatal. No code shipped with the
model runs unless ``--trust-remote-code`` is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hf_ser.audio import SAMPLE_RATE

logger = logging.getLogger(__name__)

# Extensions picked up when walking folders (files named explicitly are always tried).
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64"}
)


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


def _scores(labels: list[str], probs: np.ndarray) -> dict[str, float]:
    return {lab: round(float(p), 6) for lab, p in sorted(zip(labels, probs), key=lambda t: -t[1])}


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def predict_files(
    model_dir_or_id: str | Path,
    paths: list[str | Path],
    *,
    batch_size: int = 8,
    device: str | None = None,
    window_s: float | None = None,
    trust_remote_code: bool = False,
    backend: str = "torch",
) -> list[FilePrediction]:
    """Label every audio file in ``paths`` (files or folders).

    Args:
        model_dir_or_id: a saved model folder or a Hub repo id.
        paths: files and/or folders (searched recursively for audio extensions).
        batch_size: windows per forward pass.
        device: torch device; default CUDA when available, else CPU.
        window_s: window length for long recordings; ``None``: the model's training crop.
        trust_remote_code: run Python code shipped with the model (never done otherwise;
            ``hf_ser.evaluation.inference.load_model``).
        backend: ``torch``, or ``onnx``: ``model_dir_or_id`` is a file from ``hf-ser export onnx``, run by
            onnxruntime (raw waveforms in: normalisation is in the graph).

    Returns:
        One :class:`FilePrediction` per file, in input order; unusable files carry ``error``.

    Raises:
        ForeignCodeError: the model folder needs code for a model type hf_ser lacks and ``trust_remote_code`` is off.
    """
    import torch

    from hf_ser.evaluation.inference import (
        clip_means,
        collator_for,
        decoded_groups,
        load_model,
        min_samples,
        score_windows,
        window_seconds,
    )

    if backend == "onnx":
        from hf_ser.data.batching import Collator
        from hf_ser.onnx_export import OnnxModel

        device, model = "cpu", OnnxModel(model_dir_or_id)
        sr, collate, minimum = SAMPLE_RATE, Collator(normalize=False), model.min_samples
    else:
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model, extractor = load_model(model_dir_or_id, trust_remote_code=trust_remote_code, device=device)
        sr = int(getattr(extractor, "sampling_rate", SAMPLE_RATE) or SAMPLE_RATE)
        collate, minimum = collator_for(extractor), min_samples(model.config)
    window = int(window_seconds(model.config, window_s) * sr)
    id2label = model.config.id2label
    labels = [id2label[i] for i in range(len(id2label))]
    files = collect_audio_paths(paths)
    results = [FilePrediction(path=str(p)) for p in files]
    for group in decoded_groups(files, sampling_rate=sr, window=window, minimum=minimum):
        ok = [(pos, wave) for pos, wave, _ in group if wave is not None]
        for pos, _, reason in group:
            if reason is not None:
                results[pos].error = reason
                logger.warning("could not label %s: %s", results[pos].path, reason)
        if not ok:
            continue
        windows, logits = score_windows(model, [w for _, w in ok], window=window, batch_size=batch_size, collate_fn=collate, device=device)
        clip_of = np.array([c for c, _, _ in windows])
        _, means = clip_means(clip_of, np.arange(len(windows)), logits)
        for c, (pos, wave) in enumerate(ok):
            result = results[pos]
            result.duration_s = round(len(wave) / sr, 3)
            overall = _softmax(means[c].astype(np.float64))
            result.scores = _scores(labels, overall)
            result.label = labels[int(np.argmax(overall))]
            mine = np.flatnonzero(clip_of == c)
            if len(mine) > 1:
                result.segments = [
                    SegmentPrediction(
                        start_s=round(windows[k][1] / sr, 3),
                        end_s=round(windows[k][2] / sr, 3),
                        label=labels[int(np.argmax(logits[k]))],
                        scores=_scores(labels, _softmax(logits[k].astype(np.float64))),
                    )
                    for k in mine
                ]
        del ok, group  # release the decoded audio before the next files are decoded
    return results
