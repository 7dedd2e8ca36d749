"""hf_ser models: SerConfig, SerForSequenceClassification, pooling heads, backbone shapes, builders.

Importing this package registers the model with the Auto classes (``AutoConfig``, ``AutoModel``,
``AutoModelForAudioClassification``) so that ``from_pretrained`` / ``pipeline("audio-classification")`` load a
saved model without ``trust_remote_code``; ``register_for_auto_class`` makes ``save_pretrained`` also write the
model's code next to the weights for processes where hf_ser is not installed.
"""

from transformers import AutoConfig, AutoModel, AutoModelForAudioClassification

from hf_ser.auto_classes import register_now
from hf_ser.models.builder import DEFAULT_BACKBONE, build_feature_extractor, build_model, parameter_counts
from hf_ser.models.configuration_ser import SerConfig
from hf_ser.models.modeling_ser import (
    SerForSequenceClassification,
    SerOutput,
    classification_loss,
    concordance_correlation_loss,
)
from hf_ser.models.pooling import POOLING, build_pooling
from hf_ser.models.receptive_field import backbone_min_samples, receptive_field
from hf_ser.models.shapes import BACKBONE_SHAPES, shape_config
from hf_ser.saved_format import upgrade

SerConfig.upgrade_saved = staticmethod(upgrade)  # folders saved by other hf_ser releases (hf_ser.saved_format)
AutoConfig.register(SerConfig.model_type, SerConfig, exist_ok=True)
AutoModel.register(SerConfig, SerForSequenceClassification, exist_ok=True)
AutoModelForAudioClassification.register(SerConfig, SerForSequenceClassification, exist_ok=True)
SerConfig.register_for_auto_class()
SerForSequenceClassification.register_for_auto_class("AutoModelForAudioClassification")
register_now(__name__)  # the other hf_ser package with Auto classes (see hf_ser.auto_classes)

__all__ = [
    "backbone_min_samples",
    "receptive_field",
    "BACKBONE_SHAPES",
    "DEFAULT_BACKBONE",
    "POOLING",
    "SerConfig",
    "SerForSequenceClassification",
    "SerOutput",
    "build_feature_extractor",
    "build_model",
    "build_pooling",
    "classification_loss",
    "concordance_correlation_loss",
    "parameter_counts",
    "shape_config",
]
