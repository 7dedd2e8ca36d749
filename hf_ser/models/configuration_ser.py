"""SerConfig: the configuration of ``SerForSequenceClassification``.

The backbone's own config (a ``Wav2Vec2Config``, ``HubertConfig``, ``WavLMConfig`` or ``Data2VecAudioConfig``) is
stored inside, so ``from_pretrained(dir)`` rebuilds the whole model without the Hub.

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders, so it imports
only ``transformers`` (no ``hf_ser``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from transformers import CONFIG_MAPPING, PretrainedConfig

TASKS = ("classification", "regression", "multitask")
FUSIONS = ("late", "cross_attention")


def _backbone_config_from(value: Any) -> PretrainedConfig | None:
    """A backbone config from a config object, its ``to_dict()`` form (from config.json) or None."""
    if value is None or isinstance(value, PretrainedConfig):
        return value
    if isinstance(value, dict):
        value = dict(value)
        model_type = value.pop("model_type", None)
        if model_type not in CONFIG_MAPPING:
            raise ValueError(f"backbone_config has unknown model_type {model_type!r}")
        return CONFIG_MAPPING[model_type](**value)
    raise TypeError(f"backbone_config must be a PretrainedConfig, a dict or None, got {type(value).__name__}")


class SerConfig(PretrainedConfig):
    """Configuration of a speech emotion recognition model: backbone + layer selection + pooling + heads.

    Args:
        backbone_config: config of the wav2vec2-family encoder (object or dict with ``model_type``).
        num_frozen_layers: bottom transformer layers run under ``torch.no_grad()`` and never trained.
        freeze_feature_encoder: keep the CNN feature encoder frozen (always true when ``num_frozen_layers > 0``).
        layers: "last", "weighted" (softmax-weighted sum of all hidden states, as SUPERB), or an int k: the
            backbone keeps only its bottom k transformer layers (``backbone_config.num_hidden_layers == k``).
        pooling: key of ``pooling.POOLING``.
        pooling_kwargs: options of that pooling head.
        head_hidden_size: width of a hidden ReLU layer between pooling and outputs; None: linear outputs.
        classifier_dropout: dropout on the pooled vector.
        task: "classification", "regression" (dims) or "multitask" (both).
        dims: names of the regressed dimensions, e.g. ("valence", "arousal", "dominance").
        class_weights: per-class cross-entropy weights, ordered by label id.
        label_smoothing: cross-entropy label smoothing.
        regression_loss_weight: weight of the (1 - CCC) loss in the multitask loss (classification weight is 1).
        loss: classification loss, ``"ce"`` (cross-entropy) or ``"focal"`` (focal loss, Lin et al. 2017).
        focal_gamma: focusing parameter of the focal loss (0 = cross-entropy).
        use_gradient_checkpointing: recompute trainable transformer layers in backward.
        adapter: LoRA settings (``adapter_layers.resolve_adapter``; resolved when the model is built) when the
            backbone carries unmerged adapters, else None. A saved model has its adapters merged (None here) and
            records them in ``merged_adapter``.
        text_config: config of the transcript encoder (object or dict with ``model_type``) of a speech + text
            model; None: speech only.
        fusion: how the transcript joins the speech: ``"late"`` (pooled speech ++ pooled text -> head) or
            ``"cross_attention"`` (speech frames attend to the text tokens, then pooling).
        modality_dropout: in training, the probability that a clip's transcript is replaced by the learned
            "missing text" embedding, so the model still predicts from speech alone.
        text_num_frozen_layers: None: the whole text encoder is frozen (the default); k: its embeddings and
            bottom k layers are frozen, the rest trains.
        text_max_tokens: transcripts are truncated to this many tokens.
    """

    model_type = "hf_ser"
    # Only for the attention-implementation recursion in transformers; the dict <-> object conversion is ours.
    sub_configs = {"backbone_config": PretrainedConfig, "text_config": PretrainedConfig}

    def __init__(
        self,
        backbone_config: PretrainedConfig | dict[str, Any] | None = None,
        num_frozen_layers: int = 0,
        freeze_feature_encoder: bool = True,
        layers: str | int = "last",
        pooling: str = "mean",
        pooling_kwargs: dict[str, Any] | None = None,
        head_hidden_size: int | None = None,
        classifier_dropout: float = 0.1,
        task: str = "classification",
        dims: list[str] | tuple[str, ...] = (),
        class_weights: list[float] | None = None,
        label_smoothing: float = 0.0,
        regression_loss_weight: float = 1.0,
        use_gradient_checkpointing: bool = False,
        loss: str = "ce",
        focal_gamma: float = 2.0,
        adapter: dict[str, Any] | None = None,
        text_config: PretrainedConfig | dict[str, Any] | None = None,
        fusion: str = "late",
        modality_dropout: float = 0.0,
        text_num_frozen_layers: int | None = None,
        text_max_tokens: int = 128,
        **kwargs: Any,
    ) -> None:
        self.backbone_config = _backbone_config_from(backbone_config)
        self.text_config = _backbone_config_from(text_config)
        self.fusion = fusion
        self.modality_dropout = float(modality_dropout)
        self.text_num_frozen_layers = None if text_num_frozen_layers is None else int(text_num_frozen_layers)
        self.text_max_tokens = int(text_max_tokens)
        self.num_frozen_layers = int(num_frozen_layers)
        self.freeze_feature_encoder = bool(freeze_feature_encoder)
        self.layers = layers
        self.pooling = pooling
        self.pooling_kwargs = dict(pooling_kwargs or {})
        self.head_hidden_size = head_hidden_size
        self.classifier_dropout = float(classifier_dropout)
        self.task = task
        self.dims = list(dims)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.label_smoothing = float(label_smoothing)
        self.regression_loss_weight = float(regression_loss_weight)
        self.use_gradient_checkpointing = bool(use_gradient_checkpointing)
        self.loss = loss
        self.focal_gamma = float(focal_gamma)
        if dataclasses.is_dataclass(adapter):  # the recipe's AdapterConfig
            adapter = dataclasses.asdict(adapter)
        self.adapter = None if adapter is None else dict(adapter)
        super().__init__(**kwargs)
        self._validate()

    def _validate(self) -> None:
        if self.loss not in ("ce", "focal"):
            raise ValueError(f"Unknown loss {self.loss!r}; choose 'ce' or 'focal'")
        if self.task not in TASKS:
            raise ValueError(f"Unknown task {self.task!r}; choose one of {list(TASKS)}")
        if self.task in ("regression", "multitask") and not self.dims:
            raise ValueError(f"task={self.task!r} needs dims, e.g. ('valence', 'arousal', 'dominance')")
        if not (self.layers in ("last", "weighted") or (isinstance(self.layers, int) and self.layers >= 1)):
            raise ValueError(f"layers must be 'last', 'weighted' or an int >= 1, got {self.layers!r}")
        if self.num_frozen_layers < 0:
            raise ValueError(f"num_frozen_layers must be >= 0, got {self.num_frozen_layers}")
        if self.num_frozen_layers > 0 and not self.freeze_feature_encoder:
            raise ValueError("num_frozen_layers > 0 needs freeze_feature_encoder=True (the CNN is below the cut)")
        if self.backbone_config is not None:
            depth = self.backbone_config.num_hidden_layers
            if self.num_frozen_layers > depth:
                raise ValueError(f"num_frozen_layers={self.num_frozen_layers} > backbone depth {depth}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"Unknown fusion {self.fusion!r}; choose one of {list(FUSIONS)}")
        if not 0.0 <= self.modality_dropout < 1.0:
            raise ValueError(f"modality_dropout must be in [0, 1), got {self.modality_dropout}")
        if self.class_weights is not None and self.id2label is not None:
            if len(self.class_weights) != len(self.id2label):
                raise ValueError(
                    f"class_weights has {len(self.class_weights)} entries for {len(self.id2label)} labels"
                )

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        if isinstance(self.backbone_config, PretrainedConfig):
            output["backbone_config"] = self.backbone_config.to_dict()
        if isinstance(self.text_config, PretrainedConfig):
            output["text_config"] = self.text_config.to_dict()
        return output

    @property
    def modality(self) -> str:
        """``"speech+text"`` with a transcript encoder, else ``"speech"`` (``hf_ser.modality``'s spellings, written
        out here because this module imports no hf_ser)."""
        return "speech+text" if self.text_config is not None else "speech"
