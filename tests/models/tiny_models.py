"""Constants shared by the model tests (importable: tests/models/conftest.py puts this folder on sys.path)."""

from hf_ser.models import BACKBONE_SHAPES

TINY_SHAPES = sorted(name for name in BACKBONE_SHAPES if name.startswith("tiny"))
# Group-norm CNNs (wav2vec2-base) normalise each channel over time, so padding changes every frame: transformers
# documents that such models are used without attention masks. All other families are padding invariant.
PADDING_INVARIANT_SHAPES = [name for name in TINY_SHAPES if name != "tiny-wav2vec2-base"]
# wav2vec2-family shapes (CNN, feature projection, positional conv), for tests of that structure.
WAV2VEC2_TINY_SHAPES = [name for name in TINY_SHAPES if "whisper" not in name]
ID2LABEL = {0: "neutral", 1: "happy", 2: "sad", 3: "angry"}


def encoder_layers(model):
    """The transformer layers of a model's backbone (the Whisper encoder holds them itself)."""
    return getattr(model.backbone, "encoder", model.backbone).layers
