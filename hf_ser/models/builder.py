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
from hf_ser.errors import RecipeError
from hf_ser.model_options import SslOptions, options_from, saved_options
from hf_ser.models.adapter_layers import load_base_weights
from hf_ser.models.configuration_ser import SerConfig
from hf_ser.models.modeling_ser import WHISPER_MODEL_TYPE, SerForSequenceClassification
from hf_ser.models.shapes import SHAPE_PREFIX, shape_config
from hf_ser.models.text_encoder import text_encoder_config
from hf_ser.models.whisper_encoder import spec_augment_problem
from hf_ser.saved_format import format_stamp

logger = logging.getLogger(__name__)

DEFAULT_BACKBONE = SslOptions.backbone  # the recipe default

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
    id2label: dict[int, str],
    class_weights: list[float] | None = None,
    seed: int | None = None,
    **options: Any,
) -> SerForSequenceClassification:
    """Build a speech emotion recognition model.

    Args:
        id2label: class names by id (task "classification" / "multitask"); for task "regression" pass
            ``{i: dim}`` or an empty dict (then the dims are used as labels).
        class_weights: cross-entropy class weights by label id.
        seed: seed for the random initialisation (head, and the backbone for shapes).
        **options: the options of ``hf_ser.model_options.SslOptions`` (each documented there, with its
            default), e.g. ``backbone="shape:tiny"``, ``pooling="attention"``, ``layers=6``. ``backbone`` is a
            Hub name or local path of a wav2vec2-family encoder or of any Whisper checkpoint (its encoder only;
            pretrained weights are loaded), or "shape:<name>" (random init, see ``shapes.BACKBONE_SHAPES``).

    Returns:
        The model, in train mode, with frozen parameters set to ``requires_grad=False``; its config records every
        option (``saved_options``) and the saved format (``hf_ser.saved_format``).

    Raises:
        TypeError: a name that is not an option of ``SslOptions``.
    """
    opts = options_from(SslOptions, options)
    if seed is not None:
        torch.manual_seed(seed)
    if opts.task == "regression" and not id2label:
        id2label = dict(enumerate(opts.dims))
    backbone_config = _backbone_config(
        opts.backbone, layers=opts.layers, layerdrop=opts.layerdrop, mask_time_prob=opts.mask_time_prob
    )
    depth = backbone_config.num_hidden_layers
    if opts.num_frozen_layers > depth:
        # Known only now for a Hub backbone (validate_recipe checks shapes and local folders): a recipe mistake.
        raise RecipeError(
            f"model.num_frozen_layers={opts.num_frozen_layers}: the backbone {opts.backbone} has {depth} layers; use 0..{depth}"
        )
    config = SerConfig(
        backbone_config=backbone_config,
        text_config=text_encoder_config(opts.text_encoder) if opts.text_encoder else None,
        class_weights=class_weights,
        **saved_options(opts),
        **format_stamp(),
        id2label={int(i): str(name) for i, name in id2label.items()},
        label2id={str(name): int(i) for i, name in id2label.items()},
    )
    model = SerForSequenceClassification(config)
    if not opts.backbone.startswith(SHAPE_PREFIX):
        if backbone_config.model_type == WHISPER_MODEL_TYPE:
            # Loads the encoder's weights only (the decoder's are skipped), from any Whisper checkpoint.
            pretrained = WhisperForAudioClassification.from_pretrained(opts.backbone, config=backbone_config).encoder
        else:
            pretrained = AutoModel.from_pretrained(opts.backbone, config=backbone_config)
        load_base_weights(model.backbone, pretrained.state_dict())
        del pretrained
        model.config.backbone_config._name_or_path = opts.backbone
    if opts.text_encoder and not opts.text_encoder.startswith(SHAPE_PREFIX):
        # The pooler of a BERT-style checkpoint is dropped by the model (never used); everything else must load,
        # into the base layers of LoRA-wrapped modules with a text adapter.
        text_weights = AutoModel.from_pretrained(opts.text_encoder).state_dict()
        load_base_weights(model.text_encoder, {k: v for k, v in text_weights.items() if not k.startswith("pooler.")})
    if opts.attn_implementation is not None:
        # A run-time choice, not saved: a loaded model takes transformers' default (a backbone without the
        # kernel, e.g. WavLM with sdpa, fails here with transformers' own message).
        model.backbone.set_attn_implementation(opts.attn_implementation)
    if opts.adapter is not None and not model.config.adapter:
        adapter = opts.adapter
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
