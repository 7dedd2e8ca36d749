"""The transcript side of a speech + text model: its encoder config, its tokenizer, tokenization, freezing.

``model.text_encoder`` names any transformers text encoder (``AutoConfig`` / ``AutoModel`` /
``AutoTokenizer.from_pretrained(name)``) or ``shape:<name>`` from ``shapes.TEXT_SHAPES`` (random weights and a
tokenizer built in code: nothing to download, for tests and the demo). Transcripts are tokenized once per clip
when the data is set up (``tokenize``), never per step.

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders, so it imports
only ``transformers`` and torch (no ``hf_ser``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn
from transformers import AutoConfig, AutoTokenizer, PretrainedConfig

from .shapes import SHAPE_PREFIX, text_shape_config, text_shape_tokenizer


def text_encoder_config(name: str) -> PretrainedConfig:
    """The text encoder's config: a ``shape:`` name (``shapes.TEXT_SHAPES``) or a Hub name / local path."""
    if name.startswith(SHAPE_PREFIX):
        return text_shape_config(name)
    return AutoConfig.from_pretrained(name)


def build_tokenizer(name: str) -> Any:
    """The tokenizer of ``name`` (``shape:`` names build theirs in code; others ``AutoTokenizer``)."""
    if name.startswith(SHAPE_PREFIX):
        return text_shape_tokenizer(name)
    return AutoTokenizer.from_pretrained(name)


def tokenize(tokenizer: Any, texts: Sequence[str | None], max_tokens: int) -> list[list[int]]:
    """Token ids per transcript, truncated to ``max_tokens``; an empty or missing transcript gives ``[]`` (the
    model then uses its learned "missing text" embedding)."""
    ids: list[list[int]] = []
    for text in texts:
        text = (text or "").strip() if isinstance(text, str) or text is None else str(text)
        ids.append(list(tokenizer(text, truncation=True, max_length=max_tokens)["input_ids"]) if text else [])
    return ids


def text_layers(encoder: nn.Module) -> tuple[nn.Module | None, Sequence[nn.Module]]:
    """``(embeddings, transformer layers)`` of a BERT-style encoder (BERT, RoBERTa, XLM-R, DeBERTa, ...).

    Raises:
        ValueError: the encoder has no ``encoder.layer`` list (partial freezing cannot find its layers).
    """
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None:
        raise ValueError(
            f"{type(encoder).__name__} has no encoder.layer list: use text_num_frozen_layers: null (all frozen)"
        )
    return getattr(encoder, "embeddings", None), list(layers)


def frozen_text_modules(encoder: nn.Module, num_frozen_layers: int | None) -> list[nn.Module]:
    """The parts of the text encoder that never train: all of it with ``num_frozen_layers=None`` (the default),
    else its embeddings and bottom ``num_frozen_layers`` layers.

    Raises:
        ValueError: more frozen layers than the encoder has.
    """
    if num_frozen_layers is None:
        return [encoder]
    embeddings, layers = text_layers(encoder)
    if num_frozen_layers > len(layers):
        raise ValueError(f"text_num_frozen_layers={num_frozen_layers} > text encoder depth {len(layers)}")
    return [m for m in (embeddings, *layers[:num_frozen_layers]) if m is not None]
