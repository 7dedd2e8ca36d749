"""A fold's training state and its one stop rule.

``TrainerState`` is everything besides the model, optimizer, scheduler and RNG that a resumed run needs (saved
as JSON in each checkpoint); ``Stopping`` decides when a fold stops and which validation is the best so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hf_ser.metrics.registry import METRICS


@dataclass
class TrainerState:
    """Everything besides model/optimizer/scheduler/RNG that a resumed run needs (saved as JSON)."""

    epoch: int = 0
    step: int = 0  # optimizer steps taken
    batches_done: int = 0  # global batches of ``epoch`` consumed (all processes together)
    best_metric: float | None = None
    best_step: int = -1
    bad_evals: int = 0  # validations since the last improvement (early stopping)
    validated_step: int = -1  # the step whose weights were last validated (-1: none yet)
    history: list[dict] = field(default_factory=list)
    done: bool = False
    augmented: dict[str, int] = field(default_factory=dict)  # augmentations in the batches trained on so far

    def count_augmented(self, per_clip: list[list[str]]) -> None:
        """Add one batch's augmentations (the collated ``augmented`` field) to the run's counts."""
        for names in per_clip:
            for name in names:
                self.augmented[name] = self.augmented.get(name, 0) + 1


@dataclass(frozen=True)
class Stopping:
    """When a fold's training stops, and which validation is the best so far: the loop's only stop rule.

    ``max_epochs`` is ``None`` when ``train.max_steps`` bounds the run instead. The counters it reads and
    updates (``step``, ``epoch``, ``best_metric``, ``best_step``, ``bad_evals``, ``done``) live in the
    ``TrainerState`` so that a resumed run continues with them.
    """

    total_steps: int
    max_epochs: int | None
    patience: int | None
    select_metric: str  # a key of ``score``'s output; its direction comes from the metric registry

    def keep_going(self, state: TrainerState) -> bool:
        """Start (or continue) an epoch?"""
        return not state.done and (self.max_epochs is None or state.epoch < self.max_epochs)

    def stop_after_step(self, state: TrainerState) -> bool:
        """Leave the epoch after this optimizer step (step budget spent, or no patience left)?"""
        return state.step >= self.total_steps or self.out_of_patience(state)

    def out_of_patience(self, state: TrainerState) -> bool:
        return bool(self.patience) and state.bad_evals >= self.patience

    def finished(self, state: TrainerState) -> bool:
        """Is the fold done (recorded in checkpoints, so a resumed finished run trains no further)?"""
        return self.stop_after_step(state) or (self.max_epochs is not None and state.epoch >= self.max_epochs)

    def improved(self, state: TrainerState, metrics: dict) -> bool:
        """Record a validation; True when it is the best so far (the caller saves that model)."""
        state.validated_step = state.step
        value = METRICS[self.select_metric].oriented(metrics[self.select_metric])
        if state.best_metric is None or value > state.best_metric:
            state.best_metric, state.best_step, state.bad_evals = value, state.step, 0
            return True
        state.bad_evals += 1
        return False
