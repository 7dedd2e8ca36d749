"""hf_ser: speech emotion recognition fine-tuning on the Hugging Face stack.

Importing it imports nothing heavy; it arranges for hf_ser's model classes to be registered with
transformers' Auto classes as soon as they are used (see ``hf_ser.auto_classes``).
"""

from hf_ser import auto_classes as _auto_classes

__version__ = "0.1.0"

_auto_classes.install()
