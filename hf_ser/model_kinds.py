"""``model.kind``: which model family a recipe trains.

``wav2vec2`` covers every wav2vec2-style encoder (XLSR, XLS-R, HuBERT, WavLM, data2vec-audio) through
``hf_ser.models.build_model``; the other kinds are the classical baselines of ``hf_ser.baselines``. Every
kind gives a ``PreTrainedModel`` with the same ``forward(input_values, attention_mask, labels, dims)`` and
outputs, so the training loop has no special case.
"""

from __future__ import annotations

from hf_ser.config import ModelConfig
from hf_ser.models import backbone_min_samples, build_model


def build_model_of_kind(
    m: ModelConfig,
    *,
    id2label: dict[int, str],
    dims: tuple[str, ...],
    class_weights: list[float] | None,
    seed: int,
):
    """Build the model the ``model`` section of a recipe describes.

    Raises:
        KeyError: unknown kind (the message lists the valid ones).
    """
    if m.kind == "wav2vec2":
        return build_model(
            backbone=m.backbone, id2label=id2label, num_frozen_layers=m.num_frozen_layers,
            freeze_feature_encoder=m.freeze_feature_encoder, layers=m.layers, pooling=m.pooling,
            pooling_kwargs=m.pooling_kwargs, head_hidden_size=m.head_hidden_size, dropout=m.dropout, task=m.task,
            dims=dims, class_weights=class_weights, label_smoothing=m.label_smoothing, layerdrop=m.layerdrop,
            gradient_checkpointing=m.gradient_checkpointing, mask_time_prob=m.mask_time_prob, seed=seed,
            loss=m.loss, focal_gamma=m.focal_gamma, attn_implementation=m.attn_implementation,
        )
    from hf_ser.baselines import BASELINES, build_baseline

    if m.kind not in BASELINES:
        raise KeyError(f"unknown model.kind {m.kind!r}; valid: {['wav2vec2', *sorted(BASELINES)]}")
    return build_baseline(
        m.kind, id2label=id2label, task=m.task, dims=dims, options=m.options, dropout=m.dropout,
        class_weights=class_weights, label_smoothing=m.label_smoothing, seed=seed,
        loss=m.loss, focal_gamma=m.focal_gamma,
    )


def min_input_samples(m: ModelConfig) -> int:
    """Shortest clip, in samples at 16 kHz, the model of a recipe accepts: its CNN's receptive field
    (``hf_ser.models.receptive_field``); 1 for the classical baselines (they pool frame features)."""
    return backbone_min_samples(m.backbone) if m.kind == "wav2vec2" else 1
