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

from collections.abc import Mapping, Sequence
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

AutoConfig.register(BaselineConfig.model_type, BaselineConfig, exist_ok=True)
AutoModel.register(BaselineConfig, BaselineForSequenceClassification, exist_ok=True)
AutoModelForAudioClassification.register(BaselineConfig, BaselineForSequenceClassification, exist_ok=True)
register_now(__name__)  # the other hf_ser package with Auto classes (see hf_ser.auto_classes)


# build_baseline's parameters reach BaselineConfig under the same name, except these (BaselineConfig's names are
# stored in every saved config.json). tests/test_model_options.py checks every parameter lands somewhere.
BASELINE_CONFIG_NAMES = {"options": "encoder_options", "dropout": "classifier_dropout"}


def build_baseline(
    kind: str,
    *,
    id2label: Mapping[int, str],
    task: str = "classification",
    dims: Sequence[str] = (),
    options: Mapping[str, Any] | None = None,
    dropout: float = 0.1,
    class_weights: list[float] | None = None,
    label_smoothing: float = 0.0,
    regression_loss_weight: float = 1.0,
    loss: str = "ce",
    focal_gamma: float = 2.0,
    seed: int | None = None,
) -> BaselineForSequenceClassification:
    """Build a randomly initialised baseline model.

    Args:
        kind: key of ``BASELINES``.
        id2label: class names by id (task "classification" / "multitask"); for task "regression" an empty dict
            uses the dims as labels (as ``hf_ser.models.build_model``).
        task: "classification", "regression" or "multitask".
        dims: regressed dimensions, e.g. ("valence", "arousal").
        options: encoder options (recipe ``model.options``), see ``hf_ser.baselines.encoders``.
        dropout: dropout on the clip vector before the heads.
        class_weights: cross-entropy class weights by label id.
        label_smoothing: cross-entropy label smoothing.
        regression_loss_weight: weight of the CCC loss in the multitask loss.
        loss: classification loss, ``"ce"`` or ``"focal"`` (see ``hf_ser.models.classification_loss``).
        focal_gamma: focusing parameter of the focal loss.
        seed: seed of the random initialisation.

    Returns:
        The model in train mode.

    Raises:
        KeyError: unknown ``kind`` (the message lists the valid kinds).
    """
    # Every parameter by name (taken first, before any other local exists): they reach BaselineConfig below.
    arguments = {k: v for k, v in locals().items() if k not in ("id2label", "seed")}
    if kind not in BASELINES:
        raise KeyError(f"Unknown baseline kind {kind!r}; choose one of {sorted(BASELINES)}")
    if seed is not None:
        torch.manual_seed(seed)
    if task == "regression" and not id2label:
        id2label = dict(enumerate(dims))
    arguments.update(options=dict(options or {}), dims=tuple(dims))
    config = BaselineConfig(
        **{BASELINE_CONFIG_NAMES.get(name, name): value for name, value in arguments.items()},
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
