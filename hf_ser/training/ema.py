"""``train.ema_decay``: an exponential moving average of the trainable weights.

After every optimizer step ``average = decay * average + (1 - decay) * weights`` (starting from the weights
training starts with). Validation, model selection and the saved model use the average; training goes on from
its own weights, restored exactly after each validation. The average is saved in every checkpoint
(``ema.safetensors``) so that a resumed run continues it bitwise.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from accelerate import Accelerator
from safetensors.torch import load_file, save_file

from hf_ser.config import RecipeConfig
from hf_ser.training.callbacks import Callback
from hf_ser.training.state import TrainerState

logger = logging.getLogger(__name__)

EMA_FILE = "ema.safetensors"  # in each checkpoint folder


class ExponentialMovingAverage(Callback):
    """Keeps the average of the trainable parameters (on their device, in their dtype) and swaps it in for
    validation and saving."""

    def __init__(self, decay: float):
        self.decay = decay
        self.average: dict[str, torch.Tensor] = {}
        self._pairs: list[tuple[torch.Tensor, torch.Tensor]] = []  # (average, parameter)
        self._restored: dict[str, torch.Tensor] | None = None
        self._training_weights: list[torch.Tensor] | None = None

    @classmethod
    def from_recipe(cls, cfg: RecipeConfig) -> ExponentialMovingAverage | None:
        """The callback of ``train.ema_decay``; ``None`` when it is not set."""
        return cls(cfg.train.ema_decay) if cfg.train.ema_decay is not None else None

    def on_checkpoint_load(self, folder: Path) -> None:
        if (folder / EMA_FILE).is_file():
            self._restored = load_file(folder / EMA_FILE)
        else:
            logger.warning("checkpoint %s has no %s: the weight average restarts from the restored weights", folder, EMA_FILE)

    def on_train_begin(self, model: torch.nn.Module, state: TrainerState) -> None:
        trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        restored = self._restored or {}
        self.average = {
            name: restored[name].to(p.device, p.dtype) if name in restored else p.detach().clone() for name, p in trainable
        }
        self._pairs = [(self.average[name], p) for name, p in trainable]

    @torch.no_grad()
    def on_step_end(self, model: torch.nn.Module, state: TrainerState) -> None:
        for average, p in self._pairs:  # on the device: no host read
            average.lerp_(p, 1.0 - self.decay)

    @torch.no_grad()
    def on_validation_begin(self, model: torch.nn.Module) -> None:
        self._training_weights = [p.detach().clone() for _, p in self._pairs]
        for average, p in self._pairs:
            p.copy_(average)

    @torch.no_grad()
    def on_validation_end(self, model: torch.nn.Module, state: TrainerState, metrics: dict | None) -> None:
        for (_, p), weights in zip(self._pairs, self._training_weights or [], strict=True):
            p.copy_(weights)
        self._training_weights = None

    def on_checkpoint_save(self, folder: Path, accelerator: Accelerator) -> None:
        if accelerator.is_main_process:  # every process holds the same average (DDP keeps the weights equal)
            save_file({name: t.detach().cpu().contiguous() for name, t in self.average.items()}, folder / EMA_FILE)
