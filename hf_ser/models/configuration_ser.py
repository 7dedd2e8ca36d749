"""SerConfig: the configuration of ``SerForSequenceClassification``.

The backbone's own config (a ``Wav2Vec2Config``, ``HubertConfig``, ``WavLMConfig`` or ``Data2VecAudioConfig``) is
stored inside, so ``from_pretrained(dir)`` rebuilds the whole model without the Hub.

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders, so it imports
only ``transformers`` (no ``hf_ser``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

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


def _adapter_from(value: Any) -> dict[str, Any] | None:
    """Adapter settings as a plain dict (the recipe's ``AdapterConfig``, or a dict from config.json), or None."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return None if value is None else dict(value)


class SerConfig(PretrainedConfig):
    """Configuration of a speech emotion recognition model: backbone + layer selection + pooling + heads.

    The options are those of ``hf_ser.model_options.SslOptions`` (declared there once, with their defaults and
    meaning), stored under their own names; ``build_model`` passes every one of them. This class keeps what it is
    given, so an option added to ``SslOptions`` reaches ``config.json`` with nothing to change here.

    Args:
        backbone_config: config of the wav2vec2-family encoder (object or dict with ``model_type``).
        class_weights: per-class cross-entropy weights, ordered by label id (computed per run), or None.
        adapter: LoRA settings when the backbone carries unmerged adapters, else None. A saved model has its
            adapters merged (None here) and records them in ``merged_adapter``.
        text_adapter: the same for the text encoder (``merged_text_adapter`` once merged).
        text_config: config of the transcript encoder (object or dict with ``model_type``) of a speech + text
            model; None: speech only (its other options, ``fusion`` ..., are ``SslOptions``).
        **kwargs: the options, ``id2label`` and the other ``PretrainedConfig`` arguments.
    """

    model_type = "hf_ser"
    # Only for the attention-implementation recursion in transformers; the dict <-> object conversion is ours.
    sub_configs = {"backbone_config": PretrainedConfig, "text_config": PretrainedConfig}

    def __init__(
        self,
        backbone_config: PretrainedConfig | dict[str, Any] | None = None,
        class_weights: list[float] | None = None,
        adapter: dict[str, Any] | None = None,
        text_config: PretrainedConfig | dict[str, Any] | None = None,
        text_adapter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.backbone_config = _backbone_config_from(backbone_config)
        self.text_config = _backbone_config_from(text_config)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.adapter = _adapter_from(adapter)
        self.text_adapter = _adapter_from(text_adapter)
        super().__init__(**kwargs)

    # Set by hf_ser.models to hf_ser.saved_format.upgrade (an older saved format migrated, a newer one refused).
    # The copy of this file saved next to the weights runs without hf_ser, and without it: its config is its own.
    upgrade_saved: ClassVar[Callable[[str, dict[str, Any]], dict[str, Any]] | None] = None

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> SerConfig:
        """A saved config, upgraded first where hf_ser is installed (``upgrade_saved``)."""
        if cls.upgrade_saved is not None:
            config_dict = cls.upgrade_saved(cls.model_type, dict(config_dict))
        return super().from_dict(config_dict, **kwargs)

    def check(self) -> None:
        """Refuse option combinations no model can be built from (called when a model is made)."""
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
