"""LoRA adapters on the backbone's transformer layers, through ``peft``; merged into plain weights on save.

``SerConfig.adapter`` (resolved by ``resolve_adapter``) says where: ``target_modules`` are module-name suffixes
inside the encoder layers, ``layers`` the layer indices. The backbone's own weights are frozen; only the LoRA
matrices (and the head) train. ``merged_state_dict`` folds each adapter into its base weight (W + B A * alpha / r)
under the base layer's own name, so a saved model is a plain ``SerForSequenceClassification`` that
``pipeline(...)`` and the ONNX export load without peft.

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders; it imports ``peft``
only when a model with unmerged adapters is built.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

ADAPTER_NAME = "default"

# Shorthands for target_modules, per backbone family (suffixes of module names inside one encoder layer).
_WAV2VEC2_TARGETS = {
    "ffn": ["feed_forward.intermediate_dense", "feed_forward.output_dense"],
    "attention": ["attention.q_proj", "attention.k_proj", "attention.v_proj", "attention.out_proj"],
}
_WHISPER_TARGETS = {
    "ffn": ["fc1", "fc2"],
    "attention": ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"],
}
# WavLM's attention passes q/k/v/out_proj.weight to F.multi_head_attention_forward itself, so a LoRA wrapper
# around those Linear modules would never run: refuse instead of training adapters that do nothing.
_WEIGHTS_READ_DIRECTLY = {"wavlm": ("q_proj", "k_proj", "v_proj", "out_proj")}

DEFAULTS = {"type": "lora", "r": 8, "alpha": 16.0, "dropout": 0.0, "target_modules": "ffn", "layers": "all"}


def resolve_adapter(adapter: dict[str, Any], *, model_type: str, depth: int, num_frozen_layers: int) -> dict[str, Any]:
    """The adapter settings with defaults filled and shorthands resolved to module suffixes and layer indices.

    Args:
        adapter: ``{type: lora, r, alpha, dropout, target_modules: ffn|attention|[suffixes], layers:
            all|upper_half|[indices]}``; missing keys take ``DEFAULTS``.
        model_type: the backbone config's ``model_type``.
        depth: transformer layers in the backbone.
        num_frozen_layers: the freezing cut (adapters below it would run under no_grad and never train).

    Raises:
        ValueError: unknown key or type, a target that would never run, layers outside the trainable range.
    """
    unknown = sorted(set(adapter) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"adapter: unknown key(s) {unknown}; valid keys: {sorted(DEFAULTS)}")
    settings = {**DEFAULTS, **adapter}
    if settings["type"] != "lora":
        raise ValueError(f"adapter.type={settings['type']!r}: only 'lora' is supported")
    if int(settings["r"]) < 1:
        raise ValueError(f"adapter.r must be >= 1, got {settings['r']}")
    if float(settings["alpha"]) <= 0 or not 0 <= float(settings["dropout"]) < 1:
        raise ValueError(f"adapter.alpha must be > 0 and adapter.dropout in [0, 1), got {settings['alpha']}, {settings['dropout']}")
    targets = settings["target_modules"]
    if isinstance(targets, str):
        table = _WHISPER_TARGETS if model_type == "whisper" else _WAV2VEC2_TARGETS
        if targets not in table:
            raise ValueError(f"adapter.target_modules={targets!r}: use one of {sorted(table)} or a list of module names")
        targets = table[targets]
    targets = [str(t) for t in targets]
    blocked = [t for t in targets if t.split(".")[-1] in _WEIGHTS_READ_DIRECTLY.get(model_type, ())]
    if blocked:
        raise ValueError(
            f"adapter.target_modules {blocked}: {model_type} attention reads these weights directly, so LoRA there "
            "would never run; use target_modules: ffn"
        )
    layers = settings["layers"]
    if layers == "all":
        layers = list(range(num_frozen_layers, depth))
    elif layers == "upper_half":
        layers = list(range(depth // 2, depth))
    elif isinstance(layers, str):
        raise ValueError(f"adapter.layers={layers!r}: use 'all', 'upper_half' or a list of layer indices")
    layers = sorted(int(i) for i in layers)
    if not layers or layers[0] < num_frozen_layers or layers[-1] >= depth:
        raise ValueError(
            f"adapter.layers {layers}: must be non-empty and within {num_frozen_layers}..{depth - 1} (layers below "
            f"num_frozen_layers={num_frozen_layers} run without gradients)"
        )
    return {
        "type": "lora",
        "r": int(settings["r"]),
        "alpha": float(settings["alpha"]),
        "dropout": float(settings["dropout"]),
        "target_modules": targets,
        "layers": layers,
    }


def inject_lora(backbone: nn.Module, adapter: dict[str, Any]) -> None:
    """Wrap the targeted Linear modules of ``backbone`` with LoRA (in place; B starts at zero, so the output does
    not change) and freeze every non-LoRA backbone parameter."""
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig(
        r=adapter["r"],
        lora_alpha=adapter["alpha"],
        lora_dropout=adapter["dropout"],
        target_modules=adapter["target_modules"],
        layers_to_transform=adapter["layers"],
        layers_pattern="layers",
        bias="none",
    )
    inject_adapter_in_model(config, backbone, adapter_name=ADAPTER_NAME)
    wrapped = [name for name, module in backbone.named_modules() if hasattr(module, "lora_A")]
    if not wrapped:
        raise ValueError(f"adapter.target_modules {adapter['target_modules']} matched no module of the backbone")
    for name, param in backbone.named_parameters():
        param.requires_grad = ".lora_" in name


def lora_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The LoRA-wrapped modules of ``model`` by name."""
    return {name: module for name, module in model.named_modules() if hasattr(module, "lora_A") and hasattr(module, "base_layer")}


def load_base_weights(backbone: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """Load a plain backbone's weights (e.g. a pretrained checkpoint) into ``backbone``, with or without LoRA
    wrappers (a wrapped module's weights go to its ``base_layer``; the LoRA matrices keep their initialisation).

    Raises:
        RuntimeError: a weight is missing or left over (other than LoRA's).
    """
    wrapped = lora_modules(backbone)
    remapped = {}
    for key, value in state_dict.items():
        prefix, _, leaf = key.rpartition(".")
        remapped[f"{prefix}.base_layer.{leaf}" if prefix in wrapped else key] = value
    missing, unexpected = backbone.load_state_dict(remapped, strict=False)
    missing = [key for key in missing if ".lora_" not in key]
    if missing or unexpected:
        raise RuntimeError(f"backbone weights do not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")


@torch.no_grad()
def merged_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` with every LoRA folded into its base weight, under the plain module's names."""
    wrapped = lora_modules(model)
    state = {}
    for key, value in model.state_dict().items():
        if ".lora_" in key or ".base_layer." in key:
            continue
        state[key] = value
    for name, module in wrapped.items():
        base = module.base_layer
        state[f"{name}.weight"] = (base.weight + module.get_delta_weight(ADAPTER_NAME).to(base.weight.dtype)).detach().clone()
        if base.bias is not None:
            state[f"{name}.bias"] = base.bias.detach().clone()
    return state
