"""hf_ser: speech emotion recognition fine-tuning on the Hugging Face stack.

Importing it imports nothing heavy; it arranges for hf_ser's model classes to be registered with
transformers' Auto classes as soon as they are used (see ``hf_ser.auto_classes``).

``hf_ser.load(path_or_hub_id, backend="torch"|"onnx")`` is the inference API (``hf_ser.inference``), imported
on first use: by module name, like ``auto_classes``, so the package root keeps no import edge to a higher layer.
"""

import importlib
from typing import Any

from hf_ser import auto_classes as _auto_classes

__version__ = "0.1.0"

# public name -> module that defines it, imported on first access
_LAZY = {"load": "hf_ser.inference", "EmotionModel": "hf_ser.inference", "Prediction": "hf_ser.inference"}

_auto_classes.install()


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'hf_ser' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
