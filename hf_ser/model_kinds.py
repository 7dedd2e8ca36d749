"""``model.kind``: which model family a recipe trains, and the ONE mapping from recipe to builder.

``wav2vec2`` covers every wav2vec2-style encoder (XLSR, XLS-R, HuBERT, WavLM, data2vec-audio) through
``hf_ser.models.build_model``; the other kinds are the classical baselines of ``hf_ser.baselines``. Every
kind gives a ``PreTrainedModel`` with the same ``forward(input_values, attention_mask, labels, dims)`` and
outputs, so the training loop has no special case.

The recipe's ``model`` fields reach the builder BY NAME: a field ``x`` of ``ModelConfig`` is passed as the
builder's parameter ``x`` when the builder has one (``build_model`` passes it on to ``SerConfig`` the same
way). Adding a model option is a field in ``hf_ser.config.ModelConfig`` plus a parameter of the same name in
the builder (and in ``SerConfig`` when the saved model needs it); nothing here changes.
tests/test_model_options.py fails when a builder parameter has no recipe field.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hf_ser.config import ModelConfig

# Builder parameters the trainer computes per fold from the data (never recipe fields, or recipe fields that
# the trainer turns into the builder's form: ``dims`` -> a tuple when the task needs it, ``class_weights``
# "balanced" -> per-class weights of the training split).
FROM_TRAINER = ("id2label", "dims", "class_weights", "seed")
# Recipe fields of the ``model`` section that the trainer reads and no builder takes (how the training targets are
# made from the data, not what the model is).
TRAINER_FIELDS = ("targets",)


def _wav2vec2() -> Callable[..., Any]:
    from hf_ser.models import build_model

    return build_model


def _baseline() -> Callable[..., Any]:
    from hf_ser.baselines import build_baseline

    return build_baseline


def _baseline_kinds() -> list[str]:
    from hf_ser.baselines import BASELINES

    return sorted(BASELINES)


# kind -> loader of its builder (imported when chosen: the baselines do not need the wav2vec2 stack).
MODEL_KINDS: dict[str, Callable[[], Callable[..., Any]]] = {"wav2vec2": _wav2vec2}
MODEL_KINDS.update({kind: _baseline for kind in _baseline_kinds()})


def builder_of(kind: str) -> Callable[..., Any]:
    """The builder function of ``kind``.

    Raises:
        KeyError: unknown kind (the message lists the valid ones).
    """
    if kind not in MODEL_KINDS:
        raise KeyError(f"unknown model.kind {kind!r}; valid: {sorted(MODEL_KINDS)}")
    return MODEL_KINDS[kind]()


def builder_arguments(builder: Callable[..., Any], m: ModelConfig, **computed: Any) -> dict[str, Any]:
    """The recipe fields ``builder`` takes, by name, with the trainer's ``computed`` values on top."""
    params = inspect.signature(builder).parameters
    fields = {f.name: getattr(m, f.name) for f in dataclasses.fields(m) if f.name in params}
    return {**fields, **computed}


def build_model_of_kind(
    m: ModelConfig,
    *,
    id2label: dict[int, str],
    dims: tuple[str, ...],
    class_weights: list[float] | None,
    seed: int,
):
    """Build the model the ``model`` section of a recipe describes.

    Raises:
        KeyError: unknown kind (the message lists the valid ones).
    """
    builder = builder_of(m.kind)
    return builder(**builder_arguments(builder, m, id2label=id2label, dims=dims, class_weights=class_weights, seed=seed))


def min_input_samples(m: ModelConfig) -> int:
    """Shortest clip, in samples at 16 kHz, the model of a recipe accepts: its CNN's receptive field
    (``hf_ser.models.receptive_field``); 1 for the classical baselines (they pool frame features)."""
    if m.kind != "wav2vec2":
        return 1
    from hf_ser.models import backbone_min_samples

    return backbone_min_samples(m.backbone)
