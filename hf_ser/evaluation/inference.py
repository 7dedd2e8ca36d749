"""Batched inference of an audio-classification model over clips listed in a canonical-schema dataset."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from hf_ser.audio import SAMPLE_RATE, AudioError, GitLfsPointerError, load_audio, silence_reason

logger = logging.getLogger(__name__)


def _load_checked(path: str, sampling_rate: int) -> tuple[np.ndarray | None, str | None]:
    """Decode one clip; return ``(wave, None)`` or ``(None, reason)`` for an unusable file."""
    try:
        wave, _ = load_audio(path, target_sr=sampling_rate)
    except (AudioError, GitLfsPointerError, OSError) as e:
        return None, getattr(e, "reason", None) or f"unreadable audio ({type(e).__name__})"
    reason = silence_reason(wave)
    return (None, reason) if reason else (wave, None)


def infer_logits(
    model: torch.nn.Module,
    feature_extractor,
    paths: Sequence[str],
    durations_s: Sequence[float] | None = None,
    *,
    batch_size: int = 8,
    device: str = "cpu",
    progress: bool = True,
) -> tuple[np.ndarray, dict[int, str]]:
    """Run ``model`` over audio files and collect its logits.

    Clips are sorted by duration so that a batch pads little, decoded per batch (memory stays bounded),
    normalised by the model's own feature extractor, and run in eval mode without gradients.

    Args:
        model: any audio-classification model whose forward takes ``input_values`` (and
            ``attention_mask``) and returns ``.logits``.
        feature_extractor: the model's saved extractor (e.g. ``Wav2Vec2FeatureExtractor``).
        paths: audio files.
        durations_s: header durations used for sorting; ``None`` keeps the given order.
        batch_size: clips per forward pass.
        device: torch device string.
        progress: show a progress bar.

    Returns:
        ``(logits, failures)``: ``logits: (len(paths), num_labels)`` float32 with NaN rows for failed clips,
        and ``failures`` ``{position in paths: reason}`` for unreadable or silent files.
    """
    sampling_rate = int(getattr(feature_extractor, "sampling_rate", SAMPLE_RATE))
    # Group-norm wav2vec2 models were trained without attention masks: their extractor says so.
    use_mask = bool(getattr(feature_extractor, "return_attention_mask", True))
    num_labels = int(model.config.num_labels)
    logits = np.full((len(paths), num_labels), np.nan, dtype=np.float32)
    failures: dict[int, str] = {}
    order = list(range(len(paths)))
    if durations_s is not None:
        order.sort(key=lambda i: float(durations_s[i]))
    model.to(device)
    was_training = model.training
    model.eval()
    bar = tqdm(total=len(order), desc="evaluate", unit="clip", disable=not progress)
    try:
        for start in range(0, len(order), batch_size):
            idx, waves = [], []
            for i in order[start : start + batch_size]:
                wave, reason = _load_checked(paths[i], sampling_rate)
                if reason is not None:
                    logger.warning("skipping %s: %s", paths[i], reason)
                    failures[i] = reason
                else:
                    idx.append(i)
                    waves.append(wave)
            bar.update(len(order[start : start + batch_size]))
            if not waves:
                continue
            inputs = feature_extractor(
                waves,
                sampling_rate=sampling_rate,
                padding=True,
                return_attention_mask=use_mask,
                return_tensors="pt",
            )
            kwargs = {"input_values": inputs["input_values"].to(device)}
            if use_mask and "attention_mask" in inputs:
                kwargs["attention_mask"] = inputs["attention_mask"].to(device)
            with torch.inference_mode():
                out = model(**kwargs).logits
            logits[idx] = out.float().cpu().numpy()
    finally:
        bar.close()
        model.train(was_training)
    return logits, failures
