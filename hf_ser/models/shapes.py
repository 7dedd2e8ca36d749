"""Backbone shapes written in code: random-initialised encoders for offline use (``backbone="shape:<name>"``).

``xlsr-53`` and ``xls-r-300m`` are the exact architectures of ``facebook/wav2vec2-large-xlsr-53`` and
``facebook/wav2vec2-xls-r-300m`` (only the weights differ): 7-layer CNN with layer norm (512 channels, kernels
10,3,3,3,3,2,2, strides 5,2,2,2,2,2,2, conv bias), 24 pre-norm ("stable layer norm") transformer layers,
hidden 1024, FFN 4096, 16 heads, positional conv kernel 128 in 16 groups, GELU, layer-norm eps 1e-5. Checked
against copies of the checkpoints' config.json found with the project's code search (fairseq's ``xlsr_large``
settings and downstream configs with ``"transformers_version": "4.7.0.dev0"``). The regularisation values
(dropouts, ``mask_time_prob``, ``layerdrop``) are the checkpoints' pretraining values as we recall them
[unverified]; ``build_model`` overrides ``layerdrop`` and, when given, ``mask_time_prob``.

``whisper-large-v3`` and ``whisper-tiny`` are the exact encoder architectures of ``openai/whisper-large-v3``
(128 mel bins, 32 layers, d_model 1280, FFN 5120, 20 heads) and ``openai/whisper-tiny`` (80 mel bins, 4 layers,
d_model 384, FFN 1536, 6 heads), both with 1500 positions (30 s) and dropouts 0, as in the checkpoints'
config.json (large-v3 checked against a copy found with the project's code search; tiny as we recall it
[unverified]). Only the encoder is ever built.

The ``tiny*`` shapes keep each family's architecture with tiny sizes (hidden 32, 4 layers, 2 heads), fast on CPU.

Text encoders for speech + text models (``model.text_encoder: shape:<name>``, ``TEXT_SHAPES``): ``tiny-bert`` is
the BERT architecture (post-norm, learned positions, GELU) at width 32, 2 layers, 2 heads, with a byte-level
tokenizer (transformers' ``ByT5Tokenizer``: 256 bytes + 3 specials + 125 extra ids = 384 ids, pad 0) that needs
no vocabulary file, so it is built and saved with no download.
"""

from __future__ import annotations

from collections.abc import Callable

from transformers import (
    BertConfig,
    ByT5Tokenizer,
    Data2VecAudioConfig,
    HubertConfig,
    PretrainedConfig,
    Wav2Vec2Config,
    WavLMConfig,
    WhisperConfig,
)

_LARGE_CNN = {
    "conv_dim": (512,) * 7,
    "conv_kernel": (10, 3, 3, 3, 3, 2, 2),
    "conv_stride": (5, 2, 2, 2, 2, 2, 2),
    "conv_bias": True,
    "feat_extract_norm": "layer",
    "feat_extract_activation": "gelu",
}
_LARGE_TRANSFORMER = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "intermediate_size": 4096,
    "num_attention_heads": 16,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-5,
    "do_stable_layer_norm": True,
    "num_conv_pos_embeddings": 128,
    "num_conv_pos_embedding_groups": 16,
}
_LARGE_REGULARISATION = {
    "hidden_dropout": 0.1,
    "attention_dropout": 0.1,
    "activation_dropout": 0.0,
    "feat_proj_dropout": 0.1,
    "layerdrop": 0.1,
    "mask_time_length": 10,
}

# Tiny sizes. The CNN keeps the real total stride (5 * 8 * 8 = 320 samples, 50 frames per 16 kHz second), so
# frame counts and masks behave as with the real models.
_TINY_CNN = {
    "conv_dim": (32, 32, 32),
    "conv_kernel": (10, 8, 4),
    "conv_stride": (5, 8, 8),
    "conv_bias": True,
    "feat_extract_activation": "gelu",
}
_TINY_TRANSFORMER = {
    "hidden_size": 32,
    "num_hidden_layers": 4,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
    "layerdrop": 0.0,
    "mask_time_prob": 0.05,
    "mask_time_length": 2,
}


def _xlsr_53() -> PretrainedConfig:
    return Wav2Vec2Config(**_LARGE_CNN, **_LARGE_TRANSFORMER, **_LARGE_REGULARISATION, mask_time_prob=0.05)


def _xls_r_300m() -> PretrainedConfig:
    return Wav2Vec2Config(**_LARGE_CNN, **_LARGE_TRANSFORMER, **_LARGE_REGULARISATION, mask_time_prob=0.075)


def _tiny() -> PretrainedConfig:
    """XLSR architecture (layer-norm CNN, stable layer norm), tiny sizes."""
    return Wav2Vec2Config(**_TINY_CNN, **_TINY_TRANSFORMER, feat_extract_norm="layer", do_stable_layer_norm=True)


def _small() -> PretrainedConfig:
    """XLSR architecture at CPU-demo size: the real 7-layer CNN geometry (25 ms receptive field, enough to
    resolve pitch periods) with 64 channels, and 2 transformer layers of width 64."""
    return Wav2Vec2Config(
        **{**_LARGE_CNN, "conv_dim": (64,) * 7},
        hidden_size=64,
        num_hidden_layers=2,
        intermediate_size=128,
        num_attention_heads=2,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        layerdrop=0.0,
        mask_time_prob=0.05,
        mask_time_length=2,
        do_stable_layer_norm=True,
    )


def _tiny_wav2vec2_base() -> PretrainedConfig:
    """wav2vec2-base architecture (group-norm CNN, post-norm transformer), tiny sizes."""
    return Wav2Vec2Config(
        **_TINY_CNN, **_TINY_TRANSFORMER, feat_extract_norm="group", do_stable_layer_norm=False
    )


def _tiny_hubert() -> PretrainedConfig:
    """hubert-large architecture (layer-norm CNN, stable layer norm, feature-projection layer norm), tiny."""
    return HubertConfig(
        **_TINY_CNN,
        **_TINY_TRANSFORMER,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        feat_proj_layer_norm=True,
    )


def _tiny_wavlm() -> PretrainedConfig:
    """wavlm-large architecture (layer-norm CNN, stable layer norm, gated relative position bias), tiny."""
    return WavLMConfig(
        **_TINY_CNN,
        **_TINY_TRANSFORMER,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        num_buckets=32,
        max_bucket_distance=64,
    )


def _tiny_data2vec_audio() -> PretrainedConfig:
    """data2vec-audio architecture (layer-norm CNN, post-norm, stacked positional convs), tiny."""
    settings = {**_TINY_TRANSFORMER, "num_conv_pos_embeddings": 2}  # number of stacked pos convs here
    return Data2VecAudioConfig(**_TINY_CNN, **settings, conv_pos_kernel_size=7)


def _whisper(d_model: int, layers: int, heads: int, ffn: int, mel_bins: int, vocab_size: int = 51865) -> PretrainedConfig:
    """A Whisper config with the given sizes (encoder and decoder alike, as in the checkpoints; only the encoder
    is ever built)."""
    return WhisperConfig(
        d_model=d_model,
        encoder_layers=layers,
        encoder_attention_heads=heads,
        encoder_ffn_dim=ffn,
        decoder_layers=layers,
        decoder_attention_heads=heads,
        decoder_ffn_dim=ffn,
        vocab_size=vocab_size,
        num_mel_bins=mel_bins,
        max_source_positions=1500,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        activation_function="gelu",
        encoder_layerdrop=0.0,
    )


def _whisper_large_v3() -> PretrainedConfig:
    return _whisper(d_model=1280, layers=32, heads=20, ffn=5120, mel_bins=128, vocab_size=51866)


def _whisper_tiny() -> PretrainedConfig:
    return _whisper(d_model=384, layers=4, heads=6, ffn=1536, mel_bins=80)


def _tiny_whisper() -> PretrainedConfig:
    """Whisper encoder architecture (log-mel front end, two convs, sinusoidal positions, pre-norm), tiny."""
    return _whisper(d_model=32, layers=4, heads=2, ffn=64, mel_bins=80)


BACKBONE_SHAPES: dict[str, Callable[[], PretrainedConfig]] = {
    "xlsr-53": _xlsr_53,
    "xls-r-300m": _xls_r_300m,
    "tiny": _tiny,
    "small": _small,
    "tiny-wav2vec2-base": _tiny_wav2vec2_base,
    "tiny-hubert": _tiny_hubert,
    "tiny-wavlm": _tiny_wavlm,
    "tiny-data2vec-audio": _tiny_data2vec_audio,
    "whisper-large-v3": _whisper_large_v3,
    "whisper-tiny": _whisper_tiny,
    "tiny-whisper": _tiny_whisper,
}

SHAPE_PREFIX = "shape:"


def _tiny_bert() -> PretrainedConfig:
    """BERT architecture with the tiny speech shapes' width (32, FFN 64, 2 heads) and 2 layers, over the
    byte-level vocabulary of ``ByT5Tokenizer`` (384 ids, pad 0)."""
    sizes = {k: _TINY_TRANSFORMER[k] for k in ("hidden_size", "intermediate_size", "num_attention_heads")}
    return BertConfig(vocab_size=len(ByT5Tokenizer()), num_hidden_layers=2, max_position_embeddings=512, pad_token_id=0, **sizes)


# name -> (config, tokenizer) of a random-initialised text encoder written in code.
TEXT_SHAPES: dict[str, tuple[Callable[[], PretrainedConfig], Callable[[], object]]] = {
    "tiny-bert": (_tiny_bert, ByT5Tokenizer),
}


def _text_shape(name: str):
    key = name.removeprefix(SHAPE_PREFIX)
    if key not in TEXT_SHAPES:
        raise KeyError(f"Unknown text encoder shape {name!r}; choose one of {sorted(TEXT_SHAPES)}")
    return TEXT_SHAPES[key]


def text_shape_config(name: str) -> PretrainedConfig:
    """The config of a named text encoder shape (``name`` with or without "shape:").

    Raises:
        KeyError: unknown shape (the message lists the valid ones).
    """
    return _text_shape(name)[0]()


def text_shape_tokenizer(name: str):
    """The tokenizer of a named text encoder shape, built in code (no file, no download)."""
    return _text_shape(name)[1]()


def shape_config(name: str) -> PretrainedConfig:
    """The backbone config of a named shape (``name`` with or without the "shape:" prefix).

    Raises:
        KeyError: unknown shape (the message lists the valid ones).
    """
    key = name.removeprefix(SHAPE_PREFIX)
    if key not in BACKBONE_SHAPES:
        raise KeyError(f"Unknown backbone shape {name!r}; choose one of {sorted(BACKBONE_SHAPES)}")
    return BACKBONE_SHAPES[key]()


def asr_shape_problem(name: str) -> str | None:
    """Why ``name`` cannot name a speech recogniser: a ``shape:`` name that is no Whisper shape (``None``: a Whisper
    shape, or a checkpoint name, which is checked when it is built). The one rule of ``data.transcripts.asr`` and
    ``--asr``."""
    whisper = sorted(SHAPE_PREFIX + k for k in BACKBONE_SHAPES if "whisper" in k)
    if name.startswith(SHAPE_PREFIX) and name not in whisper:
        return f"not a Whisper shape; valid: {whisper} or a Whisper checkpoint name"
    return None
