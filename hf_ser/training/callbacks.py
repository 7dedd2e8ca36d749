"""The fold's extension points: a callback is called at named moments of ``hf_ser.training.fold.FoldRecipe``.

A feature that changes what training does around the step (an average of the weights, a different way to
freeze layers, a probe) is a ``Callback`` subclass that overrides the moments it needs, not a flag inside the
step. The moments, in the order a fold meets them:

``on_model_built``      the fold's model, before the optimizer sees its parameters
``on_checkpoint_load``  a resumed fold restored this checkpoint folder (after the model, optimizer, RNG)
``on_train_begin``      the prepared model, just before the first (or first resumed) step
``on_step_end``         after each optimizer step (``state.step`` counts it)
``on_validation_begin`` before the model is scored for selection, or saved as the final model without selection
``on_validation_end``   after it (the model is trained on afterwards: undo what ``begin`` changed)
``on_checkpoint_save``  a checkpoint folder is being written (before it is renamed complete)
``on_fold_end``         the fold's ``metrics.json`` content, after the selected model was evaluated

Every process calls every moment (callbacks that write files write on the main process). ``model`` is always
the trained ``torch.nn.Module`` itself (no DDP or cache wrapper); ``state`` is the fold's ``TrainerState``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from accelerate import Accelerator

from hf_ser.training.state import TrainerState


class Callback:
    """One extension of the fold; every moment does nothing unless overridden."""

    def on_model_built(self, model: torch.nn.Module) -> None:
        """The fold's freshly built model, before ``prepare`` and before the optimizer collects its parameters."""

    def on_checkpoint_load(self, folder: Path) -> None:
        """A resumed fold restored ``folder``: read back what ``on_checkpoint_save`` wrote there."""

    def on_train_begin(self, model: torch.nn.Module, state: TrainerState) -> None:
        """Training is about to start (or resume at ``state.step``)."""

    def on_step_end(self, model: torch.nn.Module, state: TrainerState) -> None:
        """An optimizer step was taken. Runs inside the timed step: never read a device value here."""

    def on_validation_begin(self, model: torch.nn.Module) -> None:
        """The model is about to be scored for selection (and saved when best), or saved as the final model."""

    def on_validation_end(self, model: torch.nn.Module, state: TrainerState, metrics: dict | None) -> None:
        """Scoring (or the final save) is done; ``metrics`` is ``None`` when nothing was scored."""

    def on_checkpoint_save(self, folder: Path, accelerator: Accelerator) -> None:
        """A checkpoint is being written in ``folder``: add what a resumed run needs (main process writes)."""

    def on_fold_end(self, metrics: dict) -> None:
        """The fold is done; ``metrics`` is its ``metrics.json`` content."""


class CallbackList(Callback):
    """Several callbacks called in order at each moment."""

    def __init__(self, callbacks: Sequence[Callback] = ()):
        self.callbacks = list(callbacks)

    def on_model_built(self, model):
        for cb in self.callbacks:
            cb.on_model_built(model)

    def on_checkpoint_load(self, folder):
        for cb in self.callbacks:
            cb.on_checkpoint_load(folder)

    def on_train_begin(self, model, state):
        for cb in self.callbacks:
            cb.on_train_begin(model, state)

    def on_step_end(self, model, state):
        for cb in self.callbacks:
            cb.on_step_end(model, state)

    def on_validation_begin(self, model):
        for cb in self.callbacks:
            cb.on_validation_begin(model)

    def on_validation_end(self, model, state, metrics):
        # Reverse order: the last to change the weights at ``begin`` is the first to restore them.
        for cb in reversed(self.callbacks):
            cb.on_validation_end(model, state, metrics)

    def on_checkpoint_save(self, folder, accelerator):
        for cb in self.callbacks:
            cb.on_checkpoint_save(folder, accelerator)

    def on_fold_end(self, metrics):
        for cb in self.callbacks:
            cb.on_fold_end(metrics)
