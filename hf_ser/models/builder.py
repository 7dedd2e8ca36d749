"""build_model / build_feature_extractor: flat, typed builders that the training recipe maps onto."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    PretrainedConfig,
    Wav2Vec2FeatureExtractor,
    WhisperForAudioClassification,
)

from hf_ser.audio import SAMPLE_RATE
from hf_ser.models.adapter_layers import load_base_weights
from hf_ser.models.configuration_ser import SerConfig
from hf_ser.models.modeling_ser import WHISPER_MODEL_TYPE, SerForSequenceClassification
from hf_ser.models.shapes import SHAPE_PREFIX, shape_config
from hf_ser.models.whisper_encoder import spec_augment_problem

logger = logging.getLogger(__name__)

DEFAULT_BACKBONE = "facebook/wav2vec2-large-xlsr-53"

# build_model's parameters reach SerConfig under the same name, except these two (SerConfig's names are stored
# in every saved config.json, so they stay). tests/test_model_options.py checks every parameter lands somewhere.
SER_CONFIG_NAMES = {"dropout": "classifier_dropout", "gradient_checkpointing": "use_gradient_checkpointing"}
# Parameters for the backbone (its config in ``_backbone_config``, or a run-time kernel choice), not SerConfig.
BACKBONE_OPTIONS = ("backbone", "layerdrop", "mask_time_prob", "attn_implementation")


def _backbone_config(
    backbone: str, *, layers: str | int, layerdrop: float, mask_time_prob: float | None
) -> PretrainedConfig:
    """The backbone config with our overrides applied (depth cut for an int ``layers``, layerdrop, SpecAugment)."""
    if backbone.startswith(SHAPE_PREFIX):
        config = shape_config(backbone)
    else:
        config = AutoConfig.from_pretrained(backbone)
    if getattr(config, "gradient_checkpointing", False):
        logger.warning(
            "%s config carries gradient_checkpointing=true; ignored (use gradient_checkpointing=True to ask)",
            backbone,
        )
    if hasattr(config, "gradient_checkpointing"):
        delattr(config, "gradient_checkpointing")
    if getattr(config, "layerdrop", 0.0) != layerdrop:
        if getattr(config, "layerdrop", 0.0) > 0 and layerdrop == 0.0:
            logger.warning(
                "%s config carries layerdrop=%s; set to 0 (random layer skipping breaks DDP and fixed shapes; "
                "use layerdrop=... to ask)",
                backbone,
                config.layerdrop,
            )
        config.layerdrop = layerdrop
    problem = spec_augment_problem(config.model_type, mask_time_prob)
    if problem:
        raise ValueError(problem)
    if config.model_type == WHISPER_MODEL_TYPE:
        if getattr(config, "encoder_layerdrop", 0.0) > 0:
            logger.warning("%s config carries encoder_layerdrop; ignored (use layerdrop=... to ask)", backbone)
            config.encoder_layerdrop = 0.0
    elif mask_time_prob is not None:
        config.mask_time_prob = mask_time_prob
    if isinstance(layers, int):
        if not 1 <= layers <= config.num_hidden_layers:
            raise ValueError(f"layers={layers} outside 1..{config.num_hidden_layers} for {backbone}")
        # Layers above the selected one are neither run nor kept: fewer parameters, and none unused under DDP.
        config.num_hidden_layers = layers
    return config


def build_model(
    *,
    backbone: str,
    id2label: dict[int, str],
    num_frozen_layers: int = 0,
    freeze_feature_encoder: bool = True,
    layers: str | int = "last",
    pooling: str = "mean",
    pooling_kwargs: dict[str, Any] | None = None,
    head_hidden_size: int | None = None,
    dropout: float = 0.1,
    task: str = "classification",
    dims: tuple[str, ...] = (),
    class_weights: list[float] | None = None,
    label_smoothing: float = 0.0,
    regression_loss_weight: float = 1.0,
    loss: str = "ce",
    focal_gamma: float = 2.0,
    layerdrop: float = 0.0,
    gradient_checkpointing: bool = False,
    mask_time_prob: float | None = None,
    attn_implementation: str | None = None,
    adapter: dict[str, Any] | None = None,
    seed: int | None = None,
) -> SerForSequenceClassification:
    """Build a speech emotion recognition model.

    Args:
        backbone: Hub name or local path of a wav2vec2-family encoder or of any Whisper checkpoint (its encoder
            only; pretrained weights are loaded), or "shape:<name>" (random init, see ``shapes.BACKBONE_SHAPES``).
            Real recipes use "facebook/wav2vec2-large-xlsr-53".
        id2label: class names by id (task "classification" / "multitask"); for task "regression" pass
            ``{i: dim}`` or an empty dict (then the dims are used as labels).
        num_frozen_layers: bottom transformer layers frozen and run without autograd.
        freeze_feature_encoder: freeze the CNN (must be True when ``num_frozen_layers > 0``).
        layers: "last", "weighted" or an int k (hidden state k; layers above k are dropped).
        pooling: key of ``hf_ser.models.pooling.POOLING``.
        pooling_kwargs: options of the pooling head.
        head_hidden_size: hidden ReLU layer width between pooling and outputs; None: linear outputs.
        dropout: dropout on the pooled vector.
        task: "classification", "regression" or "multitask".
        dims: regressed dimensions, e.g. ("valence", "arousal", "dominance").
        class_weights: cross-entropy class weights by label id.
        label_smoothing: cross-entropy label smoothing.
        regression_loss_weight: weight of the CCC loss in the multitask loss.
        loss: classification loss, ``"ce"`` (cross-entropy) or ``"focal"`` (``classification_loss``).
        focal_gamma: focusing parameter of the focal loss.
        layerdrop: probability of skipping each trainable layer in training (0: off, the default).
        gradient_checkpointing: recompute the trainable layers in backward.
        mask_time_prob: SpecAugment time-mask probability; None keeps the backbone config's value.
        attn_implementation: backbone attention kernel (``sdpa``, ``eager``, ...); None: transformers' default.
        adapter: LoRA adapters on the backbone (base frozen, only adapters and head train), e.g.
            ``{"type": "lora", "r": 8, "alpha": 16, "target_modules": "ffn", "layers": "upper_half"}``; a
            dataclass with those fields works too. See ``adapter_layers.resolve_adapter``.
        seed: seed for the random initialisation (head, and the backbone for shapes).

    Returns:
        The model, in train mode, with frozen parameters set to ``requires_grad=False``.
    """
    # Every parameter by name (taken first, before any other local exists): they reach SerConfig below.
    options = {k: v for k, v in locals().items() if k not in (*BACKBONE_OPTIONS, "id2label", "seed")}
    if seed is not None:
        torch.manual_seed(seed)
    if task == "regression" and not id2label:
        id2label = dict(enumerate(dims))
    backbone_config = _backbone_config(
        backbone, layers=layers, layerdrop=layerdrop, mask_time_prob=mask_time_prob
    )
    config = SerConfig(
        backbone_config=backbone_config,
        **{SER_CONFIG_NAMES.get(name, name): value for name, value in options.items()},
        id2label={int(i): str(name) for i, name in id2label.items()},
        label2id={str(name): int(i) for i, name in id2label.items()},
    )
    model = SerForSequenceClassification(config)
    if not backbone.startswith(SHAPE_PREFIX):
        if backbone_config.model_type == WHISPER_MODEL_TYPE:
            # Loads the encoder's weights only (the decoder's are skipped), from any Whisper checkpoint.
            pretrained = WhisperForAudioClassification.from_pretrained(backbone, config=backbone_config).encoder
        else:
            pretrained = AutoModel.from_pretrained(backbone, config=backbone_config)
        load_base_weights(model.backbone, pretrained.state_dict())
        del pretrained
        model.config.backbone_config._name_or_path = backbone
    if attn_implementation is not None:
        # A run-time choice, not saved: a loaded model takes transformers' default (a backbone without the
        # kernel, e.g. WavLM with sdpa, fails here with transformers' own message).
        model.backbone.set_attn_implementation(attn_implementation)
    if adapter is not None and not model.config.adapter:
        model.attach_adapter(dataclasses.asdict(adapter) if dataclasses.is_dataclass(adapter) else dict(adapter))
    model.train()
    return model


def parameter_counts(model: torch.nn.Module) -> dict[str, float]:
    """Trainable and total parameters of a model, and their ratio (what a run reports)."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable": trainable, "total": total, "trainable_fraction": round(trainable / max(total, 1), 6)}


def build_feature_extractor(*, sampling_rate: int = SAMPLE_RATE) -> Wav2Vec2FeatureExtractor:
    """The feature extractor saved with every model: per-clip zero-mean / unit-variance, attention masks.

    ``return_attention_mask=True`` matters for the layer-norm (XLSR, XLS-R, large) backbones: without it a padded
    clip's frames attend to padding.
    """
    return Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=sampling_rate,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=True,
    )
