"""``validate_recipe(cfg)``: what the recipe schema cannot say, checked before any audio is touched.

``load_recipe`` checks the schema (``hf_ser.config``: keys, types, choices, ranges); this module checks the
rest, so that a typo costs a second and not a full decode of every corpus:

* every registry name resolves (corpus, protocol, label set, ``model.kind``, pooling, augmentation, aligner),
  and the error lists the valid names;
* every free-form option dict is bound to the signature of the builder that will receive it
  (``inspect.signature(builder).bind``, as torchtune's ``config/_validate.py``): ``data.protocol_options`` ->
  the protocol's fold maker, each ``data.augment`` entry -> its augmentation builder, ``data.alignment`` -> the
  aligner, ``model.pooling_kwargs`` -> the pooling class, ``model.options`` -> the baseline encoder, a corpus's
  ``options`` -> its loader. An unknown key is named with the valid ones; each value is checked against the
  builder's own type hint by the schema library (pydantic), and against ``OPTION_RULES`` where an option
  shared by every builder has a range;
* rules across fields (validation speakers for selection, options of the other model kind, the backbone's
  depth and family);
* the label set leaves at least two classes (from the corpora's declared labels; nothing is decoded).

All problems are collected and raised together as one ``RecipeError``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from hf_ser.errors import RecipeError
from hf_ser.schema_types import problem_line

if TYPE_CHECKING:
    from hf_ser.config import CorpusSpec, RecipeConfig


# Options inside the free-form dicts that every builder shares a meaning (and a range) for.
OPTION_RULES: dict[str, Any] = {
    "data.protocol_options.num_folds": Annotated[int, Field(ge=2)],
    "data.protocol_options.test_fraction": Annotated[float, Field(gt=0, lt=1)],
    "data.augment[].p": Annotated[float, Field(ge=0, le=1)],
}

DIMENSIONS = ("valence", "arousal", "dominance")


def validate_recipe(cfg: RecipeConfig) -> None:
    """Check a loaded recipe against every registry and builder before any work.

    Raises:
        RecipeError: every problem found, one per line, each naming the recipe key (and the valid choices).
    """
    errors: list[str] = []
    _check_data(cfg, errors)
    _check_model(cfg, errors)
    if len(errors) == 1:
        raise RecipeError(errors[0])
    if errors:
        raise RecipeError(f"{len(errors)} problems in the recipe:\n  " + "\n  ".join(errors))


def _check_value(key: str, value: Any, errors: list[str], rule_key: str | None = None) -> None:
    rule = OPTION_RULES.get(rule_key or key)
    if rule is None:
        return
    try:
        _adapter(rule).validate_python(value)
    except ValidationError as e:
        errors.append(problem_line(key, e.errors()))


# ------------------------------------------------------------------------------------------------ data
def _check_data(cfg: RecipeConfig, errors: list[str]) -> None:
    from hf_ser.corpora import CORPORA

    data = cfg.data
    if not data.corpora:
        errors.append("data.corpora: a run needs at least one training corpus, e.g. [{name: ravdess, root: data/RAVDESS}]")
    for where, specs in (("data.corpora", data.corpora), ("data.eval_corpora", data.eval_corpora)):
        for i, spec in enumerate(specs):
            _check_corpus(f"{where}[{i}]", spec, CORPORA, errors)
    if data.valid_fraction == 0 and data.selection_split == "valid":
        errors.append(
            "data.valid_fraction=0 leaves no validation speakers for model selection; allowed: (0, 1), "
            "or 0 with data.selection_split: test (replicates papers that selected on the test fold) or none "
            "(no selection: the final model)"
        )
    label_mapping = _check_label_set(data.label_set, errors)
    if cfg.model.task != "regression" and label_mapping is not False:
        _check_two_classes(cfg, label_mapping, CORPORA, errors)
    _check_protocol(cfg, errors)
    _check_augment(cfg, errors)
    _check_transcripts(cfg, errors)


def _check_transcripts(cfg: RecipeConfig, errors: list[str]) -> None:
    """``data.transcripts``: a Whisper recogniser, for a speech + text model."""
    from hf_ser.models.shapes import asr_shape_problem

    spec = cfg.data.transcripts
    if spec is None:
        return
    if not cfg.model.text_encoder:
        errors.append("data.transcripts: ASR transcripts feed a speech + text model; set model.text_encoder or drop data.transcripts")
    problem = asr_shape_problem(spec.asr)
    if problem:
        errors.append(f"data.transcripts.asr={spec.asr}: {problem}")


def _check_corpus(where: str, spec: CorpusSpec, corpora: Mapping[str, Any], errors: list[str]) -> None:
    from hf_ser.corpora import CANONICAL_LABELS

    if spec.name not in corpora:
        errors.append(f"{where}.name: unknown corpus {spec.name!r}; valid: {sorted(corpora)} (`hf-ser corpora list`)")
        return
    _bind(f"{where}.options", corpora[spec.name].load, spec.options, errors, skip=("root", "label_set", "label_map", "skip_log"))
    for code, label in spec.label_map.items():
        if label is not None and label not in CANONICAL_LABELS:
            errors.append(f"{where}.label_map.{code}: {label!r} is not a canonical label; valid: {list(CANONICAL_LABELS)} or null")


def _check_label_set(label_set: Any, errors: list[str]) -> dict[str, str] | None | bool:
    """The label-set mapping (None: keep all), or False when the label set itself is wrong."""
    from hf_ser.corpora import resolve_label_set

    try:
        return resolve_label_set(label_set)
    except (KeyError, ValueError) as e:
        errors.append(f"data.label_set: {e.args[0]}")
        return False


def _check_two_classes(cfg: RecipeConfig, mapping: dict[str, str] | None, corpora: Mapping[str, Any], errors: list[str]) -> None:
    # An upper bound from what each corpus declares: if even that leaves one class, no run can learn anything.
    classes: set[str] = set()
    for spec in cfg.data.corpora:
        if spec.name not in corpora:
            return
        declared = {spec.label_map.get(lab, lab) for lab in corpora[spec.name].info.labels}
        declared |= set(spec.label_map.values())  # maps may key on the corpus's own codes
        declared.discard(None)
        classes |= set(declared) if mapping is None else {mapping[lab] for lab in declared if lab in mapping}
    if cfg.data.corpora and len(classes) < 2:
        errors.append(
            f"data.label_set={cfg.data.label_set!r} leaves {len(classes)} class(es) {sorted(classes)} in "
            f"{[s.name for s in cfg.data.corpora]}; a classifier needs at least 2"
        )


def _check_protocol(cfg: RecipeConfig, errors: list[str]) -> None:
    from hf_ser.splits import PROTOCOLS

    data = cfg.data
    protocol = PROTOCOLS.get(data.protocol)
    if protocol is None:
        errors.append(f"data.protocol: unknown fold protocol {data.protocol!r}; valid: {sorted(PROTOCOLS)}")
        return
    names = sorted({s.options.get("corpus_name", s.name) for s in data.corpora})
    if protocol.corpus is not None and names and names != [protocol.corpus]:
        errors.append(f"data.protocol={data.protocol!r} is written for corpus {protocol.corpus!r}; the recipe trains on {names}")
    # What make_folds passes on to the maker (the seed comes from train.seed, never from here).
    allowed = ("num_folds", "strict", *protocol.options)
    unknown = sorted(set(data.protocol_options) - set(allowed))
    if unknown:
        errors.append(
            f"data.protocol_options: unknown option {unknown[0]!r} for protocol {data.protocol!r}; valid: {sorted(allowed)}"
        )
    types: dict[str, Any] = {"num_folds": int | None, "strict": bool, **_type_hints(protocol.make)}
    for key, value in data.protocol_options.items():
        if key in allowed:
            _check_type(f"data.protocol_options.{key}", value, types.get(key), errors)
            _check_value(f"data.protocol_options.{key}", value, errors)


def _check_augment(cfg: RecipeConfig, errors: list[str]) -> None:
    from hf_ser.augment.pipeline import AUGMENTATIONS

    data = cfg.data
    for i, entry in enumerate(data.augment):
        where = f"data.augment[{i}]"
        if not isinstance(entry, dict):
            errors.append(f"{where}: expected a mapping such as {{name: noise, snr_db: [10, 30]}}, got {entry!r}")
            continue
        options = dict(entry)
        name = options.pop("name", None)
        if name not in AUGMENTATIONS:
            errors.append(f"{where}.name: unknown augmentation {name!r}; valid: {sorted(AUGMENTATIONS)}")
            continue
        if "p" in options:
            _check_value(f"{where}.p", options.pop("p"), errors, rule_key="data.augment[].p")
        if name == "word_swap" and i != 0:
            errors.append(f"{where}: word_swap must be the first augmentation (its word spans refer to the stored clip)")
        _bind(f"{where} ({name})", AUGMENTATIONS[name], options, errors, skip=("train_rows", "get_wave", "alignments", "sample_rate"))
    uses_words = any(isinstance(e, dict) and e.get("name") == "word_swap" for e in data.augment)
    if uses_words or data.alignment:
        _check_alignment(data.alignment, uses_words, errors)


def _check_alignment(alignment: Mapping[str, Any], needed: bool, errors: list[str]) -> None:
    from hf_ser.augment.align import ALIGNERS

    options = dict(alignment)
    name = options.pop("aligner", None)
    if name is None:
        if needed:
            errors.append(f"data.alignment.aligner: word_swap needs word boundaries; set one of {sorted(ALIGNERS)}")
        return
    if name not in ALIGNERS:
        errors.append(f"data.alignment.aligner: unknown aligner {name!r}; valid: {sorted(ALIGNERS)}")
        return
    if "min_score" in options:
        _check_type("data.alignment.min_score", options.pop("min_score"), float | None, errors)
    _bind(f"data.alignment ({name})", ALIGNERS[name], options, errors, extra=("aligner", "min_score"))


# ------------------------------------------------------------------------------------------------ model
def _check_model(cfg: RecipeConfig, errors: list[str]) -> None:
    from hf_ser.model_kinds import MODEL_KINDS, foreign_options, kinds_taking

    m = cfg.model
    if m.kind not in MODEL_KINDS:
        errors.append(f"model.kind: unknown model kind {m.kind!r}; valid: {sorted(MODEL_KINDS)}")
        return
    for name in foreign_options(m):  # refused, never dropped: the user asked for something this kind lacks
        takers = kinds_taking(name)
        errors.append(
            f"model.{name}={getattr(m, name)!r}: an option of model.kind {', '.join(takers)} only; kind {m.kind!r} "
            f"does not take it (remove it, or use a kind that does)"
        )
    if m.task != "classification":
        bad = [d for d in m.dims if d not in DIMENSIONS]
        if not m.dims or bad:
            errors.append(f"model.dims={list(m.dims)!r}: task={m.task!r} needs dimensions from {list(DIMENSIONS)}")
    if m.kind == "wav2vec2":
        from hf_ser.models.pooling import POOLING

        if m.pooling not in POOLING:
            errors.append(f"model.pooling: unknown pooling {m.pooling!r}; valid: {sorted(POOLING)}")
        else:
            cls = POOLING[m.pooling]
            first = next(iter(inspect.signature(cls).parameters))  # the frame width, given by the model
            _bind(f"model.pooling_kwargs ({m.pooling})", cls, m.pooling_kwargs, errors, skip=(first,))
        _check_backbone_options(m, errors)
        _check_text_encoder(cfg, errors)
    else:
        from hf_ser.baselines import BASELINES

        _bind(f"model.options ({m.kind})", BASELINES[m.kind], m.options, errors)


def _check_text_encoder(cfg: RecipeConfig, errors: list[str]) -> None:
    """A speech + text model: a known text shape, frozen layers within its depth, text adapter settings that
    resolve against it (``_check_adapter``); a text adapter needs a text encoder."""
    from hf_ser.models.shapes import SHAPE_PREFIX, TEXT_SHAPES, text_shape_config

    m = cfg.model
    if not m.text_encoder:
        if m.text_adapter is not None:
            errors.append(
                "model.text_adapter: LoRA on the text encoder needs a speech + text model; set model.text_encoder "
                "(e.g. shape:tiny-bert) or remove model.text_adapter"
            )
        return
    if m.text_encoder.startswith(SHAPE_PREFIX) and m.text_encoder.removeprefix(SHAPE_PREFIX) not in TEXT_SHAPES:
        errors.append(f"model.text_encoder: unknown text shape {m.text_encoder!r}; valid: {[SHAPE_PREFIX + k for k in sorted(TEXT_SHAPES)]}")
        return
    config = _local_config(m.text_encoder, text_shape_config)
    depth = getattr(config, "num_hidden_layers", None)
    if depth is not None and m.text_num_frozen_layers is not None and m.text_num_frozen_layers > depth:
        errors.append(f"model.text_num_frozen_layers={m.text_num_frozen_layers} > {m.text_encoder}'s depth {depth}")
        return
    _check_adapter(m.text_adapter, config, depth, num_frozen_layers=m.text_num_frozen_layers or 0, text=True, errors=errors)


def _local_config(name: str, shape_config: Callable[[str], Any]) -> Any:
    """An encoder's config when it is known without the network (a shape, read by ``shape_config``, or a local
    folder), else None."""
    from hf_ser.models.shapes import SHAPE_PREFIX

    if name.startswith(SHAPE_PREFIX):
        try:
            return shape_config(name)
        except KeyError:
            return None
    if (Path(name) / "config.json").is_file():
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(name)
    return None


def _check_backbone_options(m: Any, errors: list[str]) -> None:
    """Options that depend on the backbone family: Whisper has no SpecAugment; the adapter settings resolve
    against the backbone's depth and the freezing cut (``_check_adapter``)."""
    from hf_ser.models.shapes import shape_config
    from hf_ser.models.whisper_encoder import spec_augment_problem

    config = _local_config(m.backbone, shape_config)
    model_type = getattr(config, "model_type", "")
    depth_known = getattr(config, "num_hidden_layers", None)
    if isinstance(depth_known, int) and m.num_frozen_layers > depth_known:
        errors.append(
            f"model.num_frozen_layers={m.num_frozen_layers}: the backbone {m.backbone} has {depth_known} transformer "
            f"layers; use 0..{depth_known}"
        )
    problem = spec_augment_problem(model_type, m.mask_time_prob)
    if problem:
        errors.append(f"model.{problem}")
    depth = m.layers if isinstance(m.layers, int) else depth_known
    _check_adapter(m.adapter, config, depth, num_frozen_layers=m.num_frozen_layers, text=False, errors=errors)


def _check_adapter(
    adapter: Any, config: Any, depth: int | None, *, num_frozen_layers: int, text: bool, errors: list[str]
) -> None:
    """LoRA settings (``model.adapter`` / ``model.text_adapter``, or None) resolve
    (``hf_ser.models.adapter_layers.resolve_adapter``) against their encoder's family and depth; for a Hub
    encoder (``config`` None, unknown before download) only what does not depend on them is checked."""
    from hf_ser.models.adapter_layers import resolve_adapter

    if adapter is None:
        return
    settings = dataclasses.asdict(adapter)
    # Unknown family: the shorthands are checked by name as the common family's (wav2vec2-style / BERT-style).
    model_type = getattr(config, "model_type", "bert" if text else "")
    if depth is None:
        listed = settings["layers"] if isinstance(settings["layers"], list) else []
        depth = max([num_frozen_layers, *listed]) + 1
        if settings["layers"] == "upper_half":
            settings["layers"] = "all"
    try:
        resolve_adapter(settings, model_type=model_type, depth=depth, num_frozen_layers=num_frozen_layers, text=text)
    except ValueError as e:
        errors.append(f"model.{e}")


# ------------------------------------------------------------------------------------------------ binding
def _bind(
    where: str,
    builder: Callable[..., Any],
    options: Mapping[str, Any],
    errors: list[str],
    *,
    skip: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> None:
    """Check ``options`` against ``builder``'s keyword parameters (minus ``skip``, which the caller fills).

    A builder that forwards ``**options`` is followed to the class its return annotation names (``build_word_swap
    -> WordSwap``, ``mfcc_rnn -> RecurrentEncoder``), so the valid keys are the ones that finally receive them.
    """
    params, types = _parameters(builder, set(skip))
    unknown = sorted(k for k in options if k not in params)
    if unknown:
        valid = sorted({*params, *extra})
        errors.append(f"{where}: unknown option {unknown[0]!r}; valid: {valid}")
    for key, value in options.items():
        if key in params:
            _check_type(f"{where.split(' ')[0]}.{key}", value, types.get(key), errors)


def _parameters(builder: Callable[..., Any], skip: set[str]) -> tuple[list[str], dict[str, Any]]:
    """Keyword-passable parameter names of ``builder`` (following ``**kwargs`` forwarding) and their type hints."""
    target = builder.__init__ if inspect.isclass(builder) else builder
    signature = inspect.signature(builder)
    names = [
        n for n, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in skip
    ]
    types = {n: a for n, a in _type_hints(target).items() if n in names}
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        forwarded = _return_class(builder)
        if forwarded is not None:
            more, more_types = _parameters(forwarded, skip | {"self"})
            names += [n for n in more if n not in names]
            types = {**more_types, **types}
    return names, types


def _return_class(fn: Callable[..., Any]) -> type | None:
    ret = _type_hints(fn).get("return")
    return ret if inspect.isclass(ret) else None


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """``fn``'s resolved type hints; a hint that cannot be resolved here (a name imported only for type
    checkers) is left out, so its parameter's values go unchecked rather than wrongly refused."""
    try:
        return typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 (any unresolvable name): resolve the hints one by one
        pass
    out = {}
    for name, hint in getattr(fn, "__annotations__", {}).items():
        try:
            out[name] = typing.get_type_hints(_Single(hint, fn))["x"]
        except Exception:  # noqa: BLE001
            continue
    return out


class _Single:
    """A stand-in with one annotation, so ``typing.get_type_hints`` resolves it in ``fn``'s module."""

    def __init__(self, hint: Any, fn: Callable[..., Any]) -> None:
        self.__annotations__ = {"x": hint}
        self.__globals__ = getattr(fn, "__globals__", {})


def _check_type(key: str, value: Any, hint: Any, errors: list[str]) -> None:
    """Check ``value`` against a type hint with the schema library (the message names the expected type)."""
    if hint is None:
        return
    try:
        _adapter(hint).validate_python(value)
    except ValidationError as e:
        reason = e.errors()[0]["msg"]
        errors.append(f"{key}={value!r} has the wrong type or value; expected {_hint_name(hint)} ({reason[:1].lower()}{reason[1:]})")
    except Exception:  # noqa: BLE001 (a hint pydantic cannot check, e.g. a callable): unchecked
        return


def _adapter(hint: Any) -> TypeAdapter:
    return TypeAdapter(hint)


def _hint_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("collections.abc.", "") if not inspect.isclass(hint) else hint.__name__
