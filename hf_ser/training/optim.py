"""The fold's optimizer (AdamW, backbone and head learning rates) and learning-rate schedule."""

from __future__ import annotations

import math

import torch
from transformers import get_scheduler


def build_optimizer(
    model: torch.nn.Module, *, lr: float, head_lr: float | None, weight_decay: float, fused: bool | None = None
) -> torch.optim.Optimizer:
    """AdamW with one learning rate for the backbone and another for everything after it (pooling, head).

    Biases and norm weights get no weight decay. ``fused``: the fused kernel (its step counters live on the
    parameters' device and are never read on the host); None: on CUDA only.
    """
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        # The encoders (speech, and the transcript encoder of a speech + text model) take the backbone rate.
        is_backbone = any(name.startswith(f"{part}.") or f".{part}." in name for part in ("backbone", "text_encoder"))
        no_decay = param.ndim < 2
        groups.setdefault((is_backbone, no_decay), []).append(param)
    param_groups = [
        {
            "params": params,
            "lr": lr if is_backbone else (head_lr if head_lr is not None else lr),
            "weight_decay": 0.0 if no_decay else weight_decay,
        }
        for (is_backbone, no_decay), params in sorted(groups.items())
    ]
    fused = torch.cuda.is_available() if fused is None else fused
    return torch.optim.AdamW(param_groups, lr=lr, fused=fused)


def build_scheduler(optimizer: torch.optim.Optimizer, *, name: str, total_steps: int, warmup_ratio: float):
    warmup = int(math.ceil(total_steps * warmup_ratio))
    kind = "constant_with_warmup" if name == "constant" else name
    return get_scheduler(kind, optimizer, num_warmup_steps=warmup, num_training_steps=max(total_steps, 1))
