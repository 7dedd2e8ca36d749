"""Constants shared by the model tests (importable: tests/models/conftest.py puts this folder on sys.path)."""

from hf_ser.models import BACKBONE_SHAPES

TINY_SHAPES = sorted(name for name in BACKBONE_SHAPES if name.startswith("tiny"))
# Group-norm CNNs (wav2vec2-base) normalise each channel over time, so padding changes every frame: transformers
# documents that such models are used without attention masks. All other families are padding invariant.
PADDING_INVARIANT_SHAPES = [name for name in TINY_SHAPES if name != "tiny-wav2vec2-base"]
ID2LABEL = {0: "neutral", 1: "happy", 2: "sad", 3: "angry"}
