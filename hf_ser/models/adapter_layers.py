"""LoRA adapters on an encoder's transformer layers, through ``peft``; merged into plain weights on save.

Two encoders take them: the speech backbone (``SerConfig.adapter``) and the transcript encoder of a speech +
text model (``SerConfig.text_adapter``). Each setting (resolved by ``resolve_adapter``) says where:
``target_modules`` are module names inside one encoder layer (a name that is not the full name of a module in
the layer matches every module whose name ends with it), ``layers`` the layer indices. The encoder's own
weights are frozen; only the LoRA matrices (and the head) train. ``merged_state_dict`` folds each adapter into
its base weight (W + B A * alpha / r) under the base layer's own name, so a saved model is a plain
``SerForSequenceClassification`` that ``pipeline(...)`` and the ONNX export load without peft.

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders; it imports ``peft``
only when a model with unmerged adapters is built.
"""

from __future__ import annotations

from collections.abc import Sequence
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
# BERT-style text encoders (BERT, RoBERTa, XLM-R, ELECTRA: ``encoder.layer[i]``). The layer's own FFN output
# is ``output.dense``, a suffix of ``attention.output.dense`` too: an exact in-layer name matches only itself.
_BERT_TARGETS = {
    "ffn": ["intermediate.dense", "output.dense"],
    "attention": ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"],
}
BERT_STYLE_MODEL_TYPES = frozenset({"bert", "roberta", "xlm-roberta", "camembert", "electra"})
# WavLM's attention passes q/k/v/out_proj.weight to F.multi_head_attention_forward itself, so a LoRA wrapper
# around those Linear modules would never run: refuse instead of training adapters that do nothing.
_WEIGHTS_READ_DIRECTLY = {"wavlm": ("q_proj", "k_proj", "v_proj", "out_proj")}

DEFAULTS = {"type": "lora", "r": 8, "alpha": 16.0, "dropout": 0.0, "target_modules": "ffn", "layers": "all"}


def target_shorthands(model_type: str, *, text: bool = False) -> dict[str, list[str]]:
    """The ``target_modules`` shorthands (``ffn``, ``attention``) of an encoder family: a speech backbone's
    (Whisper's, or the wav2vec2 family's), or a text encoder's (BERT-style ones only; others name modules)."""
    if text:
        return _BERT_TARGETS if model_type in BERT_STYLE_MODEL_TYPES else {}
    return _WHISPER_TARGETS if model_type == "whisper" else _WAV2VEC2_TARGETS


def resolve_adapter(
    adapter: dict[str, Any], *, model_type: str, depth: int, num_frozen_layers: int, text: bool = False
) -> dict[str, Any]:
    """The adapter settings with defaults filled and shorthands resolved to module names and layer indices.

    Args:
        adapter: ``{type: lora, r, alpha, dropout, target_modules: ffn|attention|[names], layers:
            all|upper_half|[indices]}``; missing keys take ``DEFAULTS``.
        model_type: the encoder config's ``model_type``.
        depth: transformer layers in the encoder.
        num_frozen_layers: the freezing cut (adapters below it would run under no_grad and never train).
        text: the settings are the text encoder's (``text_adapter``: its shorthands, its key in messages).

    Raises:
        ValueError: unknown key or type, a target that would never run, layers outside the trainable range.
    """
    key = "text_adapter" if text else "adapter"
    unknown = sorted(set(adapter) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{key}: unknown key(s) {unknown}; valid keys: {sorted(DEFAULTS)}")
    settings = {**DEFAULTS, **adapter}
    if settings["type"] != "lora":
        raise ValueError(f"{key}.type={settings['type']!r}: only 'lora' is supported")
    if int(settings["r"]) < 1:
        raise ValueError(f"{key}.r must be >= 1, got {settings['r']}")
    if float(settings["alpha"]) <= 0 or not 0 <= float(settings["dropout"]) < 1:
        raise ValueError(f"{key}.alpha must be > 0 and {key}.dropout in [0, 1), got {settings['alpha']}, {settings['dropout']}")
    targets = settings["target_modules"]
    if isinstance(targets, str):
        table = target_shorthands(model_type, text=text)
        if targets not in table:
            raise ValueError(f"{key}.target_modules={targets!r}: use one of {sorted(table)} or a list of module names")
        targets = table[targets]
    targets = [str(t) for t in targets]
    blocked = [t for t in targets if t.split(".")[-1] in _WEIGHTS_READ_DIRECTLY.get(model_type, ())]
    if blocked:
        raise ValueError(
            f"{key}.target_modules {blocked}: {model_type} attention reads these weights directly, so LoRA there "
            "would never run; use target_modules: ffn"
        )
    cut = "text_num_frozen_layers" if text else "num_frozen_layers"
    layers = settings["layers"]
    if layers == "all":
        layers = list(range(num_frozen_layers, depth))
    elif layers == "upper_half":
        layers = list(range(depth // 2, depth))
    elif isinstance(layers, str):
        raise ValueError(f"{key}.layers={layers!r}: use 'all', 'upper_half' or a list of layer indices")
    layers = sorted(int(i) for i in layers)
    if not layers or layers[0] < num_frozen_layers or layers[-1] >= depth:
        raise ValueError(
            f"{key}.layers {layers}: must be non-empty and within {num_frozen_layers}..{depth - 1} (layers below "
            f"{cut}={num_frozen_layers} are frozen)"
        )
    return {
        "type": "lora",
        "r": int(settings["r"]),
        "alpha": float(settings["alpha"]),
        "dropout": float(settings["dropout"]),
        "target_modules": targets,
        "layers": layers,
    }


def targeted_modules(encoder: nn.Module, layers: Sequence[nn.Module], adapter: dict[str, Any]) -> list[str]:
    """Full names (in ``encoder``) of the modules ``adapter`` targets in its ``layers``: a target that is the name
    of a module inside the layer matches that module only, any other target every module whose in-layer name ends
    with ``.<target>`` (so BERT's ``output.dense`` is the layer's FFN output, not ``attention.output.dense``)."""
    full_name = {id(module): name for name, module in encoder.named_modules()}
    names: list[str] = []
    for index in adapter["layers"]:
        inside = dict(layers[index].named_modules())
        for target in adapter["target_modules"]:
            matched = [target] if target in inside else [n for n in inside if n.endswith(f".{target}")]
            names += [full_name[id(inside[n])] for n in matched if full_name[id(inside[n])] not in names]
    return names


def inject_lora(encoder: nn.Module, layers: Sequence[nn.Module], adapter: dict[str, Any], *, what: str = "backbone") -> None:
    """Wrap the targeted Linear modules (``targeted_modules``) of ``encoder`` with LoRA (in place; B starts at
    zero, so the output does not change) and freeze every non-LoRA parameter of ``encoder``.

    Args:
        encoder: the module whose weights the adapters adapt (the backbone, the text encoder).
        layers: its transformer layers, indexed by ``adapter["layers"]``.
        adapter: resolved settings (``resolve_adapter``).
        what: the encoder's name in the error message.

    Raises:
        ValueError: the targets match no module.
    """
    from peft import LoraConfig, inject_adapter_in_model

    names = targeted_modules(encoder, layers, adapter)
    if not names:
        raise ValueError(f"target_modules {adapter['target_modules']} matched no module of the {what}'s layers {adapter['layers']}")
    # Full module names: peft wraps exactly these (an exact name is never read as a suffix of another).
    config = LoraConfig(
        r=adapter["r"], lora_alpha=adapter["alpha"], lora_dropout=adapter["dropout"], target_modules=names, bias="none"
    )
    inject_adapter_in_model(config, encoder, adapter_name=ADAPTER_NAME)
    for name, param in encoder.named_parameters():
        param.requires_grad = ".lora_" in name


def lora_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The LoRA-wrapped modules of ``model`` by name."""
    return {name: module for name, module in model.named_modules() if hasattr(module, "lora_A") and hasattr(module, "base_layer")}


def load_base_weights(backbone: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """Load a plain encoder's weights (e.g. a pretrained checkpoint) into ``backbone`` (or the text encoder), with
    or without LoRA wrappers (a wrapped module's weights go to its ``base_layer``; the LoRA matrices keep their
    initialisation).

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
