"""The shortest input a backbone accepts: the receptive field of its convolutional feature encoder.

A wav2vec2-family encoder turns samples into frames with a stack of 1-D convolutions (``conv_kernel``,
``conv_stride``); an input shorter than one frame's receptive field gives zero frames, and the convolution
fails (``Kernel size can't be greater than actual input size``). Loaders skip such clips ("too short") and
prediction reports them, both with the number computed here.
"""

from __future__ import annotations

from typing import Any


def receptive_field(config: Any) -> int:
    """Samples one output frame of the config's CNN sees, i.e. the minimum input length.

    Args:
        config: a backbone config with ``conv_kernel`` / ``conv_stride`` (wav2vec2, HuBERT, WavLM, data2vec),
            or an hf_ser ``SerConfig`` (its ``backbone_config`` is used).

    Returns:
        ``1 + sum_i (kernel_i - 1) * prod_{j<i} stride_j`` (400 samples = 25 ms at 16 kHz for the XLSR CNN);
        1 for a config without a convolutional feature encoder (no minimum beyond one sample).
    """
    inner = getattr(config, "backbone_config", None)
    if inner is not None and getattr(config, "conv_kernel", None) is None:
        config = inner
    if getattr(config, "model_type", None) == "whisper":
        return 160  # one 10-ms log-mel frame (whisper_encoder.HOP_LENGTH): a shorter clip has no frame at all
    kernels = getattr(config, "conv_kernel", None)
    strides = getattr(config, "conv_stride", None)
    if not kernels or not strides:
        return 1
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides):
        field += (int(kernel) - 1) * jump
        jump *= int(stride)
    return field


def backbone_min_samples(backbone: str) -> int:
    """``receptive_field`` of a backbone named as in recipes (``shape:<name>``, a Hub id or a local folder).

    Reads only the config (no weights).
    """
    from hf_ser.models.shapes import SHAPE_PREFIX, shape_config

    if backbone.startswith(SHAPE_PREFIX):
        return receptive_field(shape_config(backbone))
    from transformers import AutoConfig

    return receptive_field(AutoConfig.from_pretrained(backbone))
