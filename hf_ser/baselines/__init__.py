"""Literature baselines for speech emotion recognition, trained by the same entry point as the main model.

``model.kind`` in a recipe picks one of ``BASELINES`` (``wav2vec2`` is the main model, ``hf_ser.models``):

=================  ====================================================================================
``issa_cnn``       193 hand-crafted features (Issa et al. 2020), cached per clip, 1-D CNN
``issa_mlp``       the same 193 features, MLP
``mfcc_rnn``       MFCC + delta + delta-delta at one or several window sizes, RNN / GRU / LSTM, optionally
                   bidirectional (``options: {cell: gru, bidirectional: true, win_ms: [25, 50]}``)
``logmel_cnn``     log-mel spectrogram, 2-D CNN
``logmel_bilstm``  log-mel spectrogram, bidirectional LSTM
=================  ====================================================================================

Each is a ``BaselineForSequenceClassification`` (a ``transformers.PreTrainedModel``) with the main model's
forward signature, output type and losses, registered with ``AutoConfig`` and
``AutoModelForAudioClassification``. Loading a saved baseline needs ``hf_ser`` installed (no remote code is
written next to the weights).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from transformers import AutoConfig, AutoModel, AutoModelForAudioClassification

from hf_ser.auto_classes import register_now
from hf_ser.baselines.configuration_baseline import BaselineConfig
from hf_ser.baselines.modeling_baseline import (
    BASELINES,
    BaselineForSequenceClassification,
    build_encoder,
    masked_ccc_loss,
)
from hf_ser.model_options import BaselineOptions, options_from, saved_options
from hf_ser.saved_format import format_stamp

AutoConfig.register(BaselineConfig.model_type, BaselineConfig, exist_ok=True)
AutoModel.register(BaselineConfig, BaselineForSequenceClassification, exist_ok=True)
AutoModelForAudioClassification.register(BaselineConfig, BaselineForSequenceClassification, exist_ok=True)
register_now(__name__)  # the other hf_ser package with Auto classes (see hf_ser.auto_classes)


def build_baseline(
    kind: str,
    *,
    id2label: Mapping[int, str],
    class_weights: list[float] | None = None,
    seed: int | None = None,
    **options: Any,
) -> BaselineForSequenceClassification:
    """Build a randomly initialised baseline model.

    Args:
        kind: key of ``BASELINES``.
        id2label: class names by id (task "classification" / "multitask"); for task "regression" an empty dict
            uses the dims as labels (as ``hf_ser.models.build_model``).
        class_weights: cross-entropy class weights by label id.
        seed: seed of the random initialisation.
        **options: the options of ``hf_ser.model_options.BaselineOptions`` (each documented there, with its
            default): the heads' (``task``, ``dims``, ``dropout``, losses) and ``options``, the encoder's own
            (recipe ``model.options``, see ``hf_ser.baselines.encoders``).

    Returns:
        The model in train mode; its config records every option and the saved format.

    Raises:
        KeyError: unknown ``kind`` (the message lists the valid kinds).
        TypeError: a name that is not an option of ``BaselineOptions``.
    """
    if kind not in BASELINES:
        raise KeyError(f"Unknown baseline kind {kind!r}; choose one of {sorted(BASELINES)}")
    opts = options_from(BaselineOptions, options)
    if seed is not None:
        torch.manual_seed(seed)
    if opts.task == "regression" and not id2label:
        id2label = dict(enumerate(opts.dims))
    config = BaselineConfig(
        kind=kind,
        class_weights=class_weights,
        **saved_options(opts),
        **format_stamp(),
        id2label={int(i): str(name) for i, name in id2label.items()},
        label2id={str(name): int(i) for i, name in id2label.items()},
    )
    model = BaselineForSequenceClassification(config)
    model.train()
    return model


__all__ = [
    "BASELINES",
    "BaselineConfig",
    "BaselineForSequenceClassification",
    "build_baseline",
    "build_encoder",
    "masked_ccc_loss",
]
