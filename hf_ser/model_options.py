"""The options of each model kind, declared once.

One typed dataclass per kind: ``SslOptions`` for ``wav2vec2`` (every wav2vec2-style encoder and Whisper's
encoder, ``hf_ser.models.build_model``) and ``BaselineOptions`` for the classical baselines
(``hf_ser.baselines.build_baseline``); both extend ``HeadOptions`` (the heads and losses every kind has). From
here an option reaches

* the recipe: ``hf_ser.config.ModelConfig`` is these dataclasses together (keys ``model.<option>``), checked
  by the schema (types, choices, ranges on the fields below); the options of the other kind are refused;
* the builder: ``build_model(**options)`` / ``build_baseline(kind, **options)`` read them into their kind's
  dataclass (defaults from here);
* the saved model: every option but ``NOT_SAVED`` is written, under its own name, into ``config.json``
  (``SerConfig`` / ``BaselineConfig`` store what they are given); a folder saved before an option existed
  gets its default on load (``hf_ser.saved_format``).

Adding an option is one field here (type, default, docstring) and the code that reads ``config.<option>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field

from hf_ser.schema_types import CommaList, schema


@schema
@dataclass
class AdapterConfig:
    """LoRA adapters through ``peft`` on the speech backbone (``model.adapter``) or the text encoder
    (``model.text_adapter``): that encoder's base stays frozen, only adapters and head train, and the saved model
    has them merged (a plain model)."""

    type: Literal["lora"] = "lora"
    """Adapter type (LoRA only)."""
    r: Annotated[int, Field(ge=1)] = 8
    """LoRA rank."""
    alpha: Annotated[float, Field(gt=0)] = 16.0
    """LoRA scaling numerator (the update is scaled by ``alpha / r``)."""
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Dropout on the adapters' input."""
    target_modules: Union[str, list[str]] = "ffn"
    """``ffn`` (feed-forward layers), ``attention`` (q/k/v/out projections; not WavLM) or module names inside a
    layer (a name that is no module's full in-layer name matches every module ending with it)."""
    layers: Union[Literal["all", "upper_half"], list[Annotated[int, Field(ge=0)]]] = "all"
    """``all`` (every layer above the encoder's frozen layers), ``upper_half``, or a list of layer indices."""


@schema
@dataclass
class ModelKind:
    """Which model family a recipe trains."""

    kind: str = "wav2vec2"
    """Model family: ``wav2vec2`` (every wav2vec2-style encoder, and Whisper's encoder) or a baseline of
    ``hf_ser.baselines.BASELINES`` (``issa_cnn``, ``mfcc_rnn``, ...)."""


@schema
@dataclass
class HeadOptions:
    """Options every model kind takes: the output heads and their losses."""

    task: Literal["classification", "regression", "multitask"] = "classification"
    """Categorical labels, dimensional targets (``dims``), or both."""
    dims: CommaList = field(default_factory=list)
    """Dimensional targets for regression / multitask: ``valence``, ``arousal``, ``dominance``."""
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.1
    """Dropout on the pooled clip vector, before the heads."""
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Cross-entropy label smoothing."""
    regression_loss_weight: Annotated[float, Field(ge=0)] = 1.0
    """Weight of the (1 - CCC) loss next to the cross-entropy in ``task: multitask``."""
    loss: Literal["ce", "focal"] = "ce"
    """Classification loss: cross-entropy or focal loss (with ``class_weights: balanced`` = focal loss with
    class-prior weights)."""
    focal_gamma: Annotated[float, Field(ge=0)] = 2.0
    """Focusing parameter of the focal loss (0 = weighted cross-entropy)."""


@schema
@dataclass
class BaselineOptions(HeadOptions):
    """Options of the classical baselines (``model.kind`` one of ``hf_ser.baselines.BASELINES``)."""

    options: dict[str, Any] = field(default_factory=dict)
    """Encoder options of the baseline kind, e.g. ``{cell: gru, bidirectional: true}`` for ``mfcc_rnn``
    (``hf_ser.baselines.encoders``)."""

    NOT_SAVED: ClassVar[tuple[str, ...]] = ()


@schema
@dataclass
class SslOptions(HeadOptions):
    """Options of ``model.kind: wav2vec2``: a self-supervised speech encoder, a layer choice, a pooling head."""

    backbone: str = "facebook/wav2vec2-large-xlsr-53"
    """Hub name, local path, or ``shape:<name>`` for a random-initialised shape written in code."""
    num_frozen_layers: Annotated[int, Field(ge=0)] = 0
    """Bottom transformer layers run without autograd (plus the CNN when ``freeze_feature_encoder``)."""
    freeze_feature_encoder: bool = True
    """Keep the CNN feature encoder frozen (required when ``num_frozen_layers > 0``)."""
    layers: Union[Literal["last", "weighted"], Annotated[int, Field(ge=1)]] = "last"
    """Which hidden states feed the head: ``last``, a layer index, or ``weighted`` (SUPERB)."""
    pooling: str = "mean"
    """Pooling head over frames (``hf_ser.models.pooling.POOLING``): ``mean``, ``attention``, ..."""
    pooling_kwargs: dict[str, Any] = field(default_factory=dict)
    """Options of the pooling head, e.g. ``{num_heads: 2}`` for ``attention``."""
    head_hidden_size: Union[Annotated[int, Field(ge=1)], None] = None
    """Width of a hidden ReLU layer between pooling and outputs (null: linear outputs)."""
    layerdrop: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Probability of skipping each trainable layer in training (0: off)."""
    gradient_checkpointing: bool = False
    """Recompute the trainable layers in backward (less memory, more compute)."""
    mask_time_prob: Union[Annotated[float, Field(ge=0, le=1)], None] = None
    """SpecAugment time-mask probability (null: the backbone config's value; Whisper has none)."""
    adapter: Union[AdapterConfig, None] = None
    """LoRA adapters, e.g. ``{type: lora, r: 8, alpha: 16, layers: upper_half}`` (null: full fine-tuning)."""
    attn_implementation: Union[Literal["sdpa", "eager", "flash_attention_2"], None] = None
    """Backbone attention kernel; None: transformers' default (SDPA where the backbone supports it: wav2vec2,
    XLS-R, HuBERT; WavLM has only ``eager``)."""
    text_encoder: Union[str, None] = None
    """Speech + text model: a transformers text encoder (Hub name or local path, e.g. ``roberta-base``) or
    ``shape:tiny-bert`` (random, offline) reading each clip's transcript (the ``text`` column); None: speech only."""
    fusion: Literal["late", "cross_attention"] = "late"
    """``late``: pooled speech ++ pooled text -> head; ``cross_attention``: speech frames attend to text tokens,
    then pooling."""
    modality_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Training probability of replacing a clip's transcript by a learned "missing text" embedding, so the model
    still predicts from speech alone (e.g. 0.3)."""
    text_num_frozen_layers: Union[Annotated[int, Field(ge=0)], None] = None
    """None: the whole text encoder is frozen (the default); k: its embeddings and bottom k layers are frozen."""
    text_adapter: Union[AdapterConfig, None] = None
    """LoRA adapters on the text encoder, the keys of ``model.adapter`` (BERT-style ``ffn`` / ``attention``
    shorthands, or module names), e.g.
    ``{type: lora, r: 8, target_modules: attention}``: its base stays frozen and only the adapters train (in the
    layers above ``text_num_frozen_layers``); null: no text adapters."""
    text_max_tokens: Annotated[int, Field(ge=1)] = 128
    """Transcripts are truncated to this many tokens."""

    # Not written into the saved config: the backbone is saved as its own config (``backbone_config``), the text
    # encoder likewise (``text_config``), and the attention kernel is a run-time choice (a loaded model takes
    # transformers' default).
    NOT_SAVED: ClassVar[tuple[str, ...]] = ("backbone", "attn_implementation", "text_encoder")


KindOptions = Union[SslOptions, BaselineOptions]


def options_from(cls: type[KindOptions], values: dict[str, Any]) -> KindOptions:
    """``values`` (builder keyword arguments) as ``cls``, defaults filled in (values are not converted: the
    builder checks what it is given, e.g. an adapter as a dict or an ``AdapterConfig``).

    Raises:
        TypeError: a name that is not an option of ``cls`` (the message lists the valid ones).
    """
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no option {unknown[0]!r}; valid: {sorted(names)}")
    return cls(**values)


def saved_options(options: KindOptions) -> dict[str, Any]:
    """What a saved model's ``config.json`` records of its options: each by its own name (nested dataclasses as
    plain data), ``NOT_SAVED`` left out."""
    return {k: v for k, v in dataclasses.asdict(options).items() if k not in options.NOT_SAVED}


def option_defaults(cls: type[KindOptions]) -> dict[str, Any]:
    """The saved form of ``cls``'s defaults (what a config saved before an option existed gets on load)."""
    return saved_options(cls())
