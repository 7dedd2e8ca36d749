"""``validate_recipe(cfg)``: the whole recipe checked against the registries before any audio is touched.

``load_recipe`` checks the schema (keys and types of the typed sections); this module checks what the schema
cannot see, so that a typo costs a second and not a full decode of every corpus:

* every registry name resolves (corpus, protocol, label set, ``model.kind``, pooling, augmentation, aligner),
  and the error lists the valid names;
* every free-form option dict is bound to the signature of the builder that will receive it
  (``inspect.signature(builder).bind``, as torchtune's ``config/_validate.py``): ``data.protocol_options`` ->
  the protocol's fold maker, each ``data.augment`` entry -> its augmentation builder, ``data.alignment`` -> the
  aligner, ``model.pooling_kwargs`` -> the pooling class, ``model.options`` -> the baseline encoder, a corpus's
  ``options`` -> its loader. An unknown key is named with the valid ones; a value whose type does not fit the
  builder's annotation is named too;
* every number is in range (``RANGES``; a test fails when a numeric recipe key has no rule);
* the label set leaves at least two classes (from the corpora's declared labels; nothing is decoded).

All problems are collected and raised together as one ``RecipeError``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_ser.errors import RecipeError

if TYPE_CHECKING:
    from hf_ser.config import CorpusSpec, RecipeConfig


# ------------------------------------------------------------------------------------------------ ranges
@dataclass(frozen=True)
class Range:
    """Allowed values of a number: ``low``/``high`` bounds (None: unbounded), each open or closed."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if isinstance(value, float) and math.isnan(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))

    def __str__(self) -> str:
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {_num(self.low)}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {_num(self.high)}"
        return f"{'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}{')' if self.high_open else ']'}"


def _num(x: float | None) -> str:
    return str(int(x)) if x is not None and float(x).is_integer() else str(x)


POSITIVE = Range(0, None, low_open=True)
AT_LEAST_1 = Range(1)
NON_NEGATIVE = Range(0)
FRACTION_OPEN = Range(0, 1, low_open=True, high_open=True)  # (0, 1)
PROBABILITY = Range(0, 1)  # [0, 1]
BELOW_ONE = Range(0, 1, high_open=True)  # [0, 1)

# Every numeric key of the recipe schema (``hf_ser.config``) -> its allowed values. A ``None`` value (where
# the schema allows it) means "not set" and is never range-checked. tests/test_validate.py fails when a
# numeric field has no entry here: a new field needs its rule.
RANGES: dict[str, Range] = {
    "data.valid_fraction": BELOW_ONE,  # 0 only with selection_split: test or none (checked in _check_data)
    "data.max_duration_s": POSITIVE,
    "data.max_file_s": POSITIVE,
    "model.num_frozen_layers": NON_NEGATIVE,
    "model.layers": AT_LEAST_1,
    "model.head_hidden_size": AT_LEAST_1,
    "model.dropout": BELOW_ONE,
    "model.label_smoothing": BELOW_ONE,
    "model.regression_loss_weight": NON_NEGATIVE,
    "model.focal_gamma": NON_NEGATIVE,  # 0: weighted cross-entropy
    "model.layerdrop": BELOW_ONE,
    "model.mask_time_prob": PROBABILITY,
    "train.epochs": AT_LEAST_1,
    "train.max_steps": AT_LEAST_1,
    "train.batch_size": AT_LEAST_1,
    "train.max_batch_audio_s": POSITIVE,
    "train.grad_accum_steps": AT_LEAST_1,
    "train.lr": POSITIVE,
    "train.head_lr": POSITIVE,
    "train.weight_decay": NON_NEGATIVE,
    "train.warmup_ratio": BELOW_ONE,
    "train.max_grad_norm": NON_NEGATIVE,  # 0: no clipping
    "train.seed": NON_NEGATIVE,
    "train.eval_every_n_steps": AT_LEAST_1,
    "train.early_stopping_patience": AT_LEAST_1,
    "train.ema_decay": FRACTION_OPEN,  # (0, 1): 0 would be no average, 1 would never move
    "train.checkpoint_every_n_steps": AT_LEAST_1,
    "train.keep_checkpoints": AT_LEAST_1,
    "train.frozen_cache_mb": NON_NEGATIVE,  # 0: off
    "train.num_workers": NON_NEGATIVE,
    "train.log_every_n_steps": AT_LEAST_1,
}

# Numeric options inside the free-form dicts that every builder shares a meaning for.
OPTION_RANGES: dict[str, Range] = {
    "data.protocol_options.num_folds": Range(2),
    "data.protocol_options.test_fraction": FRACTION_OPEN,
    "data.augment[].p": PROBABILITY,
}

DIMENSIONS = ("valence", "arousal", "dominance")


def validate_recipe(cfg: RecipeConfig) -> None:
    """Check a loaded recipe against every registry and builder before any work.

    Raises:
        RecipeError: every problem found, one per line, each naming the recipe key (and the valid choices).
    """
    errors: list[str] = []
    _check_ranges(cfg, "", errors)
    _check_data(cfg, errors)
    _check_model(cfg, errors)
    _check_folds(cfg.folds, errors)
    if len(errors) == 1:
        raise RecipeError(errors[0])
    if errors:
        raise RecipeError(f"{len(errors)} problems in the recipe:\n  " + "\n  ".join(errors))


def numeric_keys(cls: type, prefix: str = "") -> list[str]:
    """Dotted names of every int/float field of a schema dataclass, recursively (what ``RANGES`` must cover)."""
    import typing

    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            out += numeric_keys(tp, key + ".")
        elif {int, float} & set(typing.get_args(tp) or (tp,)):
            out.append(key)
    return out


def _check_ranges(node: Any, prefix: str, errors: list[str]) -> None:
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            _check_ranges(value, key + ".", errors)
        elif key in RANGES and _is_number(value) and value not in RANGES[key]:
            errors.append(f"{key}={value!r} is out of range; allowed: {RANGES[key]}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_value(key: str, value: Any, errors: list[str], rule_key: str | None = None) -> None:
    rule = OPTION_RANGES.get(rule_key or key)
    if rule is not None and _is_number(value) and value not in rule:
        errors.append(f"{key}={value!r} is out of range; allowed: {rule}")


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
    types = _annotations(protocol.make)
    types.setdefault("num_folds", "int | None")
    types.setdefault("strict", "bool")
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
            p = options.pop("p")
            _check_type(f"{where}.p", p, "float", errors)
            _check_value(f"{where}.p", p, errors, rule_key="data.augment[].p")
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
        _check_type("data.alignment.min_score", options.pop("min_score"), "float | None", errors)
    _bind(f"data.alignment ({name})", ALIGNERS[name], options, errors, extra=("aligner", "min_score"))


# ------------------------------------------------------------------------------------------------ model
def _check_model(cfg: RecipeConfig, errors: list[str]) -> None:
    from hf_ser.model_kinds import MODEL_KINDS

    m = cfg.model
    if m.kind not in MODEL_KINDS:
        errors.append(f"model.kind: unknown model kind {m.kind!r}; valid: {sorted(MODEL_KINDS)}")
        return
    if m.task != "classification":
        bad = [d for d in m.dims if d not in DIMENSIONS]
        if not m.dims or bad:
            errors.append(f"model.dims={list(m.dims)!r}: task={m.task!r} needs dimensions from {list(DIMENSIONS)}")
    if isinstance(m.layers, str) and m.layers not in ("last", "weighted"):
        errors.append(f"model.layers={m.layers!r}: valid: 'last', 'weighted' or a layer number >= 1")
    if m.class_weights not in (None, "balanced"):
        errors.append(f"model.class_weights={m.class_weights!r}: valid: null or 'balanced'")
    if m.kind == "wav2vec2":
        from hf_ser.models.pooling import POOLING

        if m.pooling not in POOLING:
            errors.append(f"model.pooling: unknown pooling {m.pooling!r}; valid: {sorted(POOLING)}")
        else:
            cls = POOLING[m.pooling]
            first = next(iter(inspect.signature(cls).parameters))  # the frame width, given by the model
            _bind(f"model.pooling_kwargs ({m.pooling})", cls, m.pooling_kwargs, errors, skip=(first,))
        if m.options:
            errors.append(f"model.options: {sorted(m.options)} are options of the baselines; kind 'wav2vec2' takes none")
        _check_backbone_options(m, errors)
    else:
        from hf_ser.baselines import BASELINES

        _bind(f"model.options ({m.kind})", BASELINES[m.kind], m.options, errors)
        if m.adapter is not None:
            errors.append(f"model.adapter: adapters need a transformer backbone (model.kind: wav2vec2), not {m.kind!r}")


def _local_backbone_config(backbone: str) -> Any:
    """The backbone's config when it is known without the network (a shape, or a local folder), else None."""
    from hf_ser.models.shapes import SHAPE_PREFIX, shape_config

    if backbone.startswith(SHAPE_PREFIX):
        try:
            return shape_config(backbone)
        except KeyError:
            return None
    if (Path(backbone) / "config.json").is_file():
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(backbone)
    return None


def _check_backbone_options(m: Any, errors: list[str]) -> None:
    """Options that depend on the backbone family: Whisper has no SpecAugment; the adapter settings resolve
    (``hf_ser.models.adapter_layers.resolve_adapter``) against the backbone's depth and the freezing cut."""
    from hf_ser.models.adapter_layers import resolve_adapter

    config = _local_backbone_config(m.backbone)
    model_type = getattr(config, "model_type", "")
    if model_type == "whisper" and m.mask_time_prob:
        errors.append(f"model.mask_time_prob={m.mask_time_prob}: SpecAugment is not available for Whisper backbones; set it to null or 0")
    if m.adapter is None:
        return
    settings = dataclasses.asdict(m.adapter)
    if isinstance(m.layers, int):
        depth = m.layers
    elif config is not None:
        depth = config.num_hidden_layers
    else:  # a Hub backbone: its depth is unknown before download, check what does not depend on it
        listed = settings["layers"] if isinstance(settings["layers"], list) else []
        depth = max([m.num_frozen_layers, *listed]) + 1
        if settings["layers"] == "upper_half":
            settings["layers"] = "all"
    try:
        resolve_adapter(settings, model_type=model_type, depth=depth, num_frozen_layers=m.num_frozen_layers)
    except ValueError as e:
        errors.append(f"model.{e}")


def _check_folds(folds: str, errors: list[str]) -> None:
    if folds == "all":
        return
    parts = [p.strip() for p in str(folds).split(",")]
    if not parts or not all(p.isdigit() for p in parts):
        errors.append(f"folds={folds!r}: valid: 'all', a fold index such as 0, or a list such as 0,3")


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


def _parameters(builder: Callable[..., Any], skip: set[str]) -> tuple[list[str], dict[str, str]]:
    """Keyword-passable parameter names of ``builder`` (following ``**kwargs`` forwarding) and their annotations."""
    target = builder.__init__ if inspect.isclass(builder) else builder
    signature = inspect.signature(builder)
    names = [
        n for n, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in skip
    ]
    types = {n: a for n, a in _annotations(target).items() if n in names}
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        forwarded = _return_class(builder)
        if forwarded is not None:
            more, more_types = _parameters(forwarded, skip | {"self"})
            names += [n for n in more if n not in names]
            types = {**more_types, **types}
    return names, types


def _return_class(fn: Callable[..., Any]) -> type | None:
    ret = inspect.signature(fn).return_annotation
    if isinstance(ret, str):
        ret = getattr(fn, "__globals__", {}).get(ret)
    return ret if inspect.isclass(ret) else None


def _annotations(fn: Callable[..., Any]) -> dict[str, str]:
    """Parameter annotations as source strings (``from __future__ import annotations`` keeps them so)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    out = {}
    for name, p in params.items():
        if p.annotation is not p.empty:
            out[name] = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
    return out


def _check_type(key: str, value: Any, annotation: str | None, errors: list[str]) -> None:
    if not annotation:
        return
    try:
        tree = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return
    if _fits(value, tree) is False:
        errors.append(f"{key}={value!r} has the wrong type; expected {annotation}")


_SEQUENCES = {"list", "tuple", "Sequence", "Iterable", "Collection"}
_MAPPINGS = {"dict", "Mapping", "MutableMapping"}


def _fits(value: Any, node: ast.expr) -> bool | None:
    """Does ``value`` fit the annotation ``node``? None when the annotation is beyond this small checker."""
    if isinstance(node, ast.Constant) and node.value is None:
        return value is None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _fits(value, node.left), _fits(value, node.right)
        return True if True in (left, right) else (None if None in (left, right) else False)
    if isinstance(node, ast.Attribute):
        node = ast.Name(node.attr)
    if isinstance(node, ast.Name):
        simple = {
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": _is_number,
            "bool": lambda v: isinstance(v, bool),
            "str": lambda v: isinstance(v, str),
            "Path": lambda v: isinstance(v, str),
        }
        if node.id in simple:
            return simple[node.id](value)
        if node.id in _SEQUENCES:
            return isinstance(value, (list, tuple))
        if node.id in _MAPPINGS:
            return isinstance(value, dict)
        return None
    if isinstance(node, ast.Subscript):
        head = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Literal":
            try:
                return value in [ast.literal_eval(a) for a in args]
            except ValueError:
                return None
        if head in ("Optional", "Union"):
            results = [_fits(value, a) for a in args] + ([value is None] if head == "Optional" else [])
            return True if True in results else (None if None in results else False)
        if head in _SEQUENCES:
            if not isinstance(value, (list, tuple)):
                return False
            # tuple[int, ...] and list[int] both check every element against the first argument.
            results = [_fits(v, args[0]) for v in value]
            return False if False in results else (None if None in results else True)
        if head in _MAPPINGS:
            return isinstance(value, dict)
    return None
