"""``model.kind``: which model family a recipe trains, its options, and the ONE mapping from recipe to builder.

``wav2vec2`` covers every wav2vec2-style encoder (XLSR, XLS-R, HuBERT, WavLM, data2vec-audio) and Whisper's
encoder through ``hf_ser.models.build_model``; the other kinds are the classical baselines of
``hf_ser.baselines``. Every kind gives a ``PreTrainedModel`` with the same ``forward(input_values,
attention_mask, labels, dims)`` and outputs, so the training loop has no special case.

Each kind's options are one typed dataclass of ``hf_ser.model_options`` (``SslOptions``, ``BaselineOptions``);
the recipe's ``model`` section is read into it (``kind_options``) and passed to the builder whole. Adding a
model option is a field there; nothing here changes. tests/test_model_options.py adds one and finds it in the
saved ``config.json``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hf_ser.model_options import BaselineOptions, KindOptions, SslOptions

if TYPE_CHECKING:
    from hf_ser.config import ModelConfig


def _wav2vec2(kind: str) -> Callable[..., Any]:
    from hf_ser.models import build_model

    return build_model


def _baseline(kind: str) -> Callable[..., Any]:
    from hf_ser.baselines import build_baseline

    return functools.partial(build_baseline, kind)


def _baseline_kinds() -> list[str]:
    from hf_ser.baselines import BASELINES

    return sorted(BASELINES)


# kind -> (its options, loader of its builder ``(**options, id2label, class_weights, seed) -> model``; imported
# when chosen: the baselines do not need the wav2vec2 stack).
MODEL_KINDS: dict[str, tuple[type[KindOptions], Callable[[str], Callable[..., Any]]]] = {"wav2vec2": (SslOptions, _wav2vec2)}
MODEL_KINDS.update({kind: (BaselineOptions, _baseline) for kind in _baseline_kinds()})


def options_of(kind: str) -> type[KindOptions]:
    """The options dataclass of ``kind``.

    Raises:
        KeyError: unknown kind (the message lists the valid ones).
    """
    if kind not in MODEL_KINDS:
        raise KeyError(f"unknown model.kind {kind!r}; valid: {sorted(MODEL_KINDS)}")
    return MODEL_KINDS[kind][0]


def builder_of(kind: str) -> Callable[..., Any]:
    """The builder of ``kind``: ``builder(**options, id2label=..., class_weights=..., seed=...)``.

    Raises:
        KeyError: unknown kind (the message lists the valid ones).
    """
    options_of(kind)
    return MODEL_KINDS[kind][1](kind)


def kind_options(m: ModelConfig) -> KindOptions:
    """The recipe's ``model`` section read into its kind's options (the other kinds' fields left out: the
    recipe check refuses them when set)."""
    cls = options_of(m.kind)
    return cls(**{f.name: getattr(m, f.name) for f in dataclasses.fields(cls)})


def foreign_options(m: ModelConfig) -> list[str]:
    """Fields of ``m`` set (away from their default) that belong to another kind's options, not to ``m.kind``'s."""
    own = {f.name for f in dataclasses.fields(options_of(m.kind))}
    foreign = []
    for cls in dict.fromkeys(options for options, _ in MODEL_KINDS.values()):
        for f in dataclasses.fields(cls):
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            if f.name not in own and f.name not in foreign and getattr(m, f.name) != default:
                foreign.append(f.name)
    return foreign


def kinds_taking(name: str) -> list[str]:
    """The kinds whose options include ``name``."""
    return sorted(k for k, (cls, _) in MODEL_KINDS.items() if name in {f.name for f in dataclasses.fields(cls)})


def build_model_of_kind(
    m: ModelConfig,
    *,
    id2label: dict[int, str],
    dims: tuple[str, ...],
    class_weights: list[float] | None,
    seed: int,
):
    """Build the model the ``model`` section of a recipe describes (``dims``: the dimensions the data gives,
    empty for a classification task).

    Raises:
        KeyError: unknown kind (the message lists the valid ones).
    """
    options = dataclasses.replace(kind_options(m), dims=list(dims))
    values = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    return builder_of(m.kind)(**values, id2label=id2label, class_weights=class_weights, seed=seed)


def min_input_samples(m: ModelConfig) -> int:
    """Shortest clip, in samples at 16 kHz, the model of a recipe accepts: its CNN's receptive field
    (``hf_ser.models.receptive_field``); 1 for the classical baselines (they pool frame features)."""
    if m.kind != "wav2vec2":
        return 1
    from hf_ser.models import backbone_min_samples

    return backbone_min_samples(m.backbone)
