"""Inference on real audio: ``load`` (also ``hf_ser.load``), its results, and the backends behind it.

``load(path_or_hub_id, backend="torch"|"onnx").predict(x)`` / ``.segments(x)``; see ``hf_ser.inference.api``.
Importing this package imports neither torch nor transformers (the torch backend imports them when loaded).
"""

from hf_ser.inference.api import EmotionModel, load
from hf_ser.inference.backends import BACKENDS, ModelSettings
from hf_ser.inference.results import Prediction, Segment, top_k
from hf_ser.inference.vad import VadSettings

__all__ = ["BACKENDS", "EmotionModel", "ModelSettings", "Prediction", "Segment", "VadSettings", "load", "top_k"]
