"""The recipe schema, written once, and ``load_recipe(path, overrides)``.

A recipe is a YAML file whose keys mirror the dataclasses below; anything not given keeps its default.
Overrides are ``key=value`` strings with dotted keys (``train.lr=3.0e-5``, ``model.pooling=attention``,
``folds=all``); values are parsed as YAML.

The dataclasses are the schema: each field's type, ``Literal`` choices and range (``Annotated[float,
Field(gt=0)]``) are checked by pydantic (v2) when a recipe is loaded, and each field's docstring is its
documentation. A new field is one typed line plus its docstring here (a model option: in
``hf_ser.model_options``, which the ``model`` section is made of); ``hf_ser.recipe_schema`` exports the
JSON Schema editors use (``recipes/recipe.schema.json``) and ``docs/recipe_reference.md`` from it.
``hf_ser.validate`` checks only what a schema cannot say (registry names, option dicts bound to their
builders, rules across fields).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union

import yaml
from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError, WithJsonSchema

from hf_ser.errors import RecipeError
from hf_ser.fsutil import atomic_write_text
from hf_ser.model_options import BaselineOptions, ModelKind, SslOptions
from hf_ser.schema_types import CommaList, problem_line, schema

T = TypeVar("T")


def _fold_spec(value: Any) -> Any:
    # `folds=3` and `folds: [0, 3]` are read by YAML as an int and a list.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        value = ",".join(str(v) for v in value)
    if isinstance(value, str) and not re.match(FOLDS_PATTERN, value):
        raise ValueError("allowed: 'all', a fold number such as 0, or a list such as 0,3")
    return value


FOLDS_PATTERN = r"^\s*(all|\d+(\s*,\s*\d+)*)\s*$"
Folds = Annotated[
    str,
    BeforeValidator(_fold_spec),
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": FOLDS_PATTERN}, {"type": "integer", "minimum": 0},
        {"type": "array", "items": {"type": "integer", "minimum": 0}},
    ]}),
]
"""``all``, one fold number, or a comma-separated list of them."""


def fold_numbers(folds: str) -> list[int] | None:
    """The fold numbers a ``folds`` value names (None: ``all``); the one parser of the key."""
    return None if folds.strip() == "all" else [int(x) for x in folds.split(",")]


@schema
@dataclass
class CorpusSpec:
    """One corpus of a run."""

    name: str
    """Registry name (``hf-ser corpora list``), e.g. ``ravdess``."""
    root: str
    """Folder the corpus was unpacked to (or a manifest file). Relative paths in a recipe file resolve against the
    recipe file's folder; in a ``key=value`` override, against the working folder."""
    label_map: dict[str, Any] = field(default_factory=dict)
    """Extra label mapping applied before the label set (``{calm: neutral}``; ``null`` drops a label)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Loader options, e.g. ``{vocal_channel: both}`` for RAVDESS."""


@schema
@dataclass
class DataConfig:
    """The ``data`` section: corpora, labels, fold protocol, audio store and augmentation."""

    corpora: list[CorpusSpec] = field(default_factory=list)
    """Training corpora; several are concatenated (speakers stay apart per corpus)."""
    label_set: Union[str, list[str]] = "all"
    """``all``, ``4class``, ``6class`` or an explicit list of canonical labels."""
    protocol: str = "holdout_speakers"
    """Fold protocol from ``hf_ser.splits.PROTOCOLS`` (e.g. ``ravdess_luna5``, ``iemocap_session_loso``)."""
    protocol_options: dict[str, Any] = field(default_factory=dict)
    """Options for the protocol (``num_folds``, ``test_fraction``, ``strict``, ...)."""
    valid_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.2
    """Fraction of the training speakers held out for validation (model selection never sees test)."""
    selection_split: Literal["valid", "test", "none"] = "valid"
    """Split used for model selection. ``test`` only replicates papers that selected on the test fold
    (optimistic); every report of such a run says so. ``none``: no selection, the final model is saved and
    tested (with ``valid_fraction: 0`` every training speaker trains; the benchmark runs this way)."""
    balanced_test: bool = False
    """Also score each test split on a class-balanced subset (every class cut to the rarest class's count,
    seeded): the MSP-Podcast challenge's macro-F1 rule. Results key ``test_balanced/<corpus>``."""
    eval_corpora: list[CorpusSpec] = field(default_factory=list)
    """Cross-corpus targets, tested after training on the labels they share with the model."""
    cache_dir: Union[str, None] = None
    """Where decoded 16 kHz audio is stored (default ``$HF_SER_CACHE`` or ``~/.cache/hf_ser``)."""
    store_dtype: Literal["float32", "int16"] = "float32"
    """Sample format of the decoded-audio store: ``int16`` halves its disk and is exact for 16-bit PCM clips
    already at 16 kHz mono (see ``hf_ser.data.store``)."""
    max_duration_s: Annotated[float, Field(gt=0)] = 20.0
    """Training clips longer than this are randomly cropped; evaluation and prediction cut longer clips into
    windows of this length (50 % overlap, logits averaged per clip: hf_ser.evaluation.inference)."""
    max_file_s: Union[Annotated[float, Field(gt=0)], None] = 3600.0
    """Files of the training and evaluation corpora longer than this (read from the header, never decoded) are
    skipped as "too long" and counted in ``data_report.json``; ``null``: no limit. Bounds the memory one file
    can take when the audio store decodes it (a 116 KB FLAC may decode to hours)."""
    augment: list[dict[str, Any]] = field(default_factory=list)
    """Training-only augmentations, e.g. ``[{name: word_swap, mode: ravdess, p: 0.5}, {name: noise, snr_db: [10, 30]}]``."""
    transcripts: Union[TranscriptsConfig, None] = None
    """``{asr: <Whisper name or shape:whisper-tiny>}``: clips without a transcript get one by ASR, made once at data
    preparation and cached per clip; ``data_report.json`` names the recogniser. For speech + text models. The saved
    model records the recogniser, and ``hf_ser.load`` / ``hf-ser predict`` / ``serve`` / ``evaluate`` run it for inputs
    given without a transcript (``--asr auto``, the default)."""
    alignment: dict[str, Any] = field(default_factory=dict)
    """Word boundaries for word swap: ``{aligner: ctc|wdseg|textgrid|pause, min_score: ..., <aligner options>}``,
    e.g. ``{aligner: ctc, model: facebook/wav2vec2-base-960h}``; computed once per corpus and cached."""


@schema
@dataclass
class TranscriptsConfig:
    """Transcripts by ASR for the clips without one (``hf_ser.data.transcripts``)."""

    asr: str
    """A Whisper checkpoint (Hub name or local path, e.g. ``openai/whisper-large-v3``) or ``shape:whisper-tiny``
    (random weights, offline: garbage text through the real path)."""


@schema
@dataclass
class ModelConfig(SslOptions, BaselineOptions, ModelKind):
    """The ``model`` section: ``kind`` and that kind's options (``hf_ser.model_options``: every kind's options
    are declared there once). Options of another kind than the recipe's are refused, not dropped."""

    class_weights: Union[Literal["balanced"], None] = None
    """``balanced`` weights the loss by inverse class frequency of the training split (class-prior weights)."""
    targets: Literal["hard", "soft"] = "hard"
    """``hard``: one label per clip; ``soft``: the annotators' vote distribution (the ``votes`` column; clips
    without votes fall back to their hard label). Cross-entropy against it is EMO-SUPERB's soft-label loss."""


@schema
@dataclass
class TrainConfig:
    """The ``train`` section: optimisation, batching, validation, checkpoints."""

    output_dir: str = "runs/default"
    """Run folder (``hf_ser.run_dir``): model, metrics, reports, checkpoints."""
    epochs: Annotated[int, Field(ge=1)] = 10
    """Passes over the training split."""
    max_steps: Union[Annotated[int, Field(ge=1)], None] = None
    """Stop after this many optimizer steps (overrides ``epochs`` when set)."""
    batch_size: Annotated[int, Field(ge=1)] = 8
    """Clips per batch per process."""
    max_batch_audio_s: Union[Annotated[float, Field(gt=0)], None] = None
    """Alternative to ``batch_size``: padded audio seconds per batch (token-budget batching)."""
    grad_accum_steps: Annotated[int, Field(ge=1)] = 1
    """Batches per optimizer step."""
    lr: Annotated[float, Field(gt=0)] = 1.0e-4
    """Learning rate of the backbone."""
    head_lr: Union[Annotated[float, Field(gt=0)], None] = None
    """Learning rate of the pooling head and classifier (default: ``lr``)."""
    weight_decay: Annotated[float, Field(ge=0)] = 0.01
    """AdamW weight decay."""
    warmup_ratio: Annotated[float, Field(ge=0, lt=1)] = 0.1
    """Fraction of the optimizer steps with a linear learning-rate warm-up."""
    scheduler: Literal["linear", "cosine", "constant"] = "linear"
    """Learning-rate schedule after the warm-up."""
    max_grad_norm: Annotated[float, Field(ge=0)] = 1.0
    """Gradient-norm clipping (0: no clipping)."""
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"
    """``auto``: bf16 on a GPU that supports it, fp16 on other GPUs, fp32 on CPU."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Seed of everything random in the run (fold k uses ``seed + k`` for the model)."""
    eval_every_n_steps: Union[Annotated[int, Field(ge=1)], None] = None
    """Validate every N optimizer steps (default: at the end of each epoch)."""
    # The registry's keys, spelled here for the schema: importing hf_ser.metrics would import torch for `--help`
    # (tests/test_one_spelling.py keeps these equal to hf_ser.metrics.registry.SELECT_METRICS).
    select_metric: Literal["ua", "wa", "macro_f1", "ccc", "loss"] = "ua"
    """Validation metric that picks the best checkpoint (``ccc`` = mean concordance for regression)."""
    ema_decay: Union[Annotated[float, Field(gt=0, lt=1)], None] = None
    """Exponential moving average of the trainable weights, updated after every optimizer step with this decay
    (e.g. 0.999); validation, model selection and the saved model use the average (None: off). In (0, 1): 0
    would be no average, 1 would never move."""
    temperature_scaling: bool = True
    """Fit one temperature on the validation split after model selection (minimising its negative log-likelihood)
    and store it in the saved model: reported probabilities, calibration figures (ECE, Brier) and ``predict`` use
    ``softmax(logits / T)``. It never changes a prediction (the arg-max is the same), only the confidences."""
    early_stopping_patience: Union[Annotated[int, Field(ge=1)], None] = None
    """Stop after this many validations without improvement."""
    checkpoint_every_n_steps: Union[Annotated[int, Field(ge=1)], None] = None
    """Write a resumable checkpoint every N steps (also at every epoch end)."""
    keep_checkpoints: Annotated[int, Field(ge=1)] = 2
    """Resumable checkpoints kept (the newest)."""
    frozen_cache_mb: Annotated[float, Field(ge=0)] = 0.0
    """RAM budget for caching the frozen part's output across epochs (0 = off). Used only when layers are
    frozen, no waveform augmentation runs, and the clip is not randomly cropped (its waveform never changes)."""
    frozen_cache_device: Literal["cpu", "pinned", "device"] = "cpu"
    """Where the frozen-output cache lives: RAM, page-locked RAM (fast non-blocking copies to a GPU), or the
    accelerator's own memory (no copies; the budget must fit beside the model)."""
    bucket_by_length: bool = True
    """Batch clips of similar length together (less padding)."""
    balanced_sampling: bool = False
    """Draw training clips with class-balanced probabilities."""
    num_workers: Annotated[int, Field(ge=0)] = 0
    """DataLoader worker processes (each runs with one torch thread); on CUDA, batches use pinned memory and
    non-blocking copies whatever this is."""
    compile: bool = False
    """``torch.compile`` the model (inductor, static shapes). Batches are then padded to a fixed ladder of
    lengths (``hf_ser.data.batching.pad_ladder``) so it compiles once per rung, not once per batch. Off by
    default: the first steps pay the compilation, and on a CPU the gain is small."""
    log_every_n_steps: Annotated[int, Field(ge=1)] = 10
    """Log the training loss every N optimizer steps."""


@schema
@dataclass
class TrackingConfig:
    """The ``tracking`` section: experiment trackers."""

    report_to: CommaList = field(default_factory=list)
    """Accelerate trackers: ``wandb``, ``tensorboard``, ... (empty: none)."""
    project: str = "hf_ser"
    """Tracker project name."""
    run_name: Union[str, None] = None
    """Tracker run name (default: the recipe's ``name``)."""
    tags: CommaList = field(default_factory=list)
    """Tracker tags."""


@schema
@dataclass
class RecipeConfig:
    """A whole recipe: what a training run does."""

    name: str = "run"
    """Name of the run (reports, tracker)."""
    description: str = ""
    """One line on what the recipe is for."""
    data: DataConfig = field(default_factory=DataConfig)
    """Corpora, labels, folds, audio store, augmentation."""
    model: ModelConfig = field(default_factory=ModelConfig)
    """The model and its losses."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Optimisation, batching, validation, checkpoints."""
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    """Experiment trackers."""
    folds: Folds = "0"
    """Folds of the protocol to run: ``all``, one index, or a list such as ``0,3``."""
    resume: bool = False
    """Continue from the newest checkpoint in the run directory (the recipe must match the stored one, see
    ``hf_ser.run_dir.RESUMABLE_KEYS``)."""
    overwrite: bool = False
    """Clear a non-empty ``train.output_dir`` (stale checkpoints included) before training; without it (and
    without ``resume``) a non-empty output folder is refused."""
    push_to_hub: bool = False
    """Push the model, card and reports to the Hub after training (``hf_ser.hub``)."""
    hub_repo_id: Union[str, None] = None
    """Hub repository of ``push_to_hub`` (``user/name``)."""
    hub_private: bool = False
    """Create the Hub repository private."""


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """The training command line (``hf-ser train``, ``hf_ser/train.py``, ``python -m hf_ser.train``): a recipe,
    ``key=value`` overrides, ``--resume`` / ``--overwrite``. Read back with ``recipe_from_args``."""
    parser.add_argument("recipe", help="YAML recipe (all of them: recipes/README.md)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.lr=3.0e-5 folds=all")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue from the newest checkpoint of the run folder (the recipe must match its recipe.resolved.yaml)",
    )
    parser.add_argument("--overwrite", action="store_true", help="clear a non-empty train.output_dir first (checkpoints included)")


def recipe_from_args(args: argparse.Namespace) -> RecipeConfig:
    """The checked recipe of a command line parsed with ``add_recipe_arguments`` (the flags are recipe keys)."""
    flags = (["resume=true"] if args.resume else []) + (["overwrite=true"] if args.overwrite else [])
    return load_recipe(args.recipe, [*args.overrides, *flags])


def load_recipe(path: str | Path | None, overrides: list[str] | None = None, *, validate: bool = True) -> RecipeConfig:
    """Read a YAML recipe, apply ``key=value`` overrides, and check it whole before any work.

    The schema (keys, types, choices, ranges) is checked here; ``validate=True`` (the default) then runs
    ``hf_ser.validate.validate_recipe``: registry names, every option dict against its builder, cross-field rules.
    ``validate=False`` is for tools that read a partial recipe (e.g. a matrix base whose corpora are replaced).

    Raises:
        RecipeError: unknown key (with the closest valid one), wrong type, out-of-range value, malformed
            override, unknown registry name or option (the message names the key and the valid choices).
    """
    cfg = parse_recipe(path, overrides)
    if validate:
        from hf_ser.validate import validate_recipe  # the registries are imported only when a run is checked

        validate_recipe(cfg)
    return cfg


def parse_recipe(path: str | Path | None, overrides: list[str] | None = None) -> RecipeConfig:
    """The schema half of ``load_recipe``: YAML + overrides -> ``RecipeConfig`` (checked against the schema)."""
    raw: dict[str, Any] = {}
    if path is not None:
        if not Path(path).is_file():
            raise FileNotFoundError(f"recipe {str(path)!r} does not exist; the recipes are listed in recipes/README.md")
        try:
            raw = safe_yaml(Path(path).read_text(), str(path)) or {}
        except yaml.YAMLError as e:
            raise RecipeError(bounded(f"{path} is not valid YAML: {e}")) from None
        if not isinstance(raw, dict):
            raise RecipeError(f"{path}: a recipe must be a mapping of keys, got {type(raw).__name__}")
        anchor_paths(raw, Path(path).resolve().parent)
    # Overrides are applied after anchoring: a path typed on the command line stays relative to the working folder.
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RecipeError(f"override {item!r} is not of the form key=value")
        try:
            parsed = safe_yaml(value, f"override {key.strip()}") if value != "" else ""
        except yaml.YAMLError as e:
            raise RecipeError(bounded(
                f"override {item!r}: the value is not valid YAML ({getattr(e, 'problem', e)}); quote the whole "
                "override in the shell, e.g. 'model.pooling_kwargs={num_heads: 2}'"
            )) from None
        _set_dotted(raw, key.strip(), parsed)
    return check_schema(RecipeConfig, raw)


def check_schema(cls: type[T], raw: Any, where: str = "") -> T:
    """``raw`` (plain YAML data) as an instance of the schema dataclass ``cls``, checked by pydantic.

    Raises:
        RecipeError: every problem, one line each, naming the dotted key (``where`` prefixes it).
    """
    if not isinstance(raw, dict):
        raise RecipeError(bounded(f"{where or 'recipe'}: expected a mapping of keys, got {raw!r}"))
    try:
        return TypeAdapter(cls).validate_python(raw)
    except ValidationError as e:  # a message may quote a value of any size: bounded lines
        problems = [bounded(line) for line in _problems(cls, e, where)]
    if len(problems) == 1:
        raise RecipeError(problems[0])
    raise RecipeError(f"{len(problems)} problems in the recipe:\n  " + "\n  ".join(problems))


# A recipe is a few hundred values; YAML anchors and aliases may reuse a node, but a document whose aliases
# expand past this many nodes (the "billion laughs" shape: 366 bytes, 10**9 values) is refused before it is
# built, and so is nesting deeper than the parser's stack.
MAX_YAML_NODES = 100_000
MESSAGE_LIMIT = 400  # characters of an error line quoting recipe values


def safe_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load`` of a recipe or an override value, refusing aliases that expand past ``MAX_YAML_NODES``.

    Raises:
        RecipeError: the expansion or the nesting is too large (one line naming ``where``).
        yaml.YAMLError: the text is not YAML.
    """
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
            size = 0 if node is None else _expanded_nodes(node, {})
        except RecursionError:
            raise RecipeError(f"{where}: YAML nested too deeply to be a recipe") from None
        if size > MAX_YAML_NODES:
            raise RecipeError(
                f"{where}: YAML anchors and aliases expand to {size:.3g} values (a recipe may hold "
                f"{MAX_YAML_NODES}); write the values out instead of nesting aliases"
            )
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_nodes(node: yaml.Node, memo: dict[int, int]) -> int:
    """Values ``node`` stands for once every alias is expanded (a node reused by aliases counts each time)."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # a node that contains itself (a recursive alias) counts as one on re-entry
    if isinstance(node, yaml.MappingNode):
        total = 1 + sum(_expanded_nodes(k, memo) + _expanded_nodes(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded_nodes(v, memo) for v in node.value)
    else:
        total = 1
    memo[id(node)] = total
    return total


def bounded(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` on one line, at most ``limit`` characters (the rest replaced by a count)."""
    line = " ".join(message.split())
    return line if len(line) <= limit else f"{line[:limit]}... ({len(line) - limit} more characters)"


def anchor_paths(raw: dict[str, Any], folder: Path) -> None:
    """Make the relative data paths of a recipe file absolute against ``folder`` (the recipe file's folder), in place.

    Why: a recipe names its data where the recipe lives (``root: ../../hf_ser/demo_data/ravdess``), so it runs the
    same from any working folder. The paths are every corpus ``root`` (``data.corpora``, ``data.eval_corpora``) and
    ``data.alignment.root`` (see ``anchor_roots``). ``train.output_dir`` and ``data.cache_dir`` stay relative to
    the working folder, where a run's outputs go.
    """
    data = raw.get("data")
    if not isinstance(data, dict):
        return
    entries = [e for key in ("corpora", "eval_corpora") for e in (data.get(key) or [])]
    anchor_roots([*entries, data.get("alignment")], folder)


def anchor_roots(entries: list[Any], folder: Path) -> None:
    """Join the relative ``root`` of each mapping in ``entries`` to ``folder``, in place. ``~`` and absolute paths
    are kept, and so is a ``hub`` root that is no local path (a Hub repo id such as ``owner/name``)."""
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        root = entry.get("root")
        if not isinstance(root, str) or not root or root.startswith("~") or Path(root).is_absolute():
            continue
        anchored = os.path.normpath(folder / root)
        if entry.get("name") == "hub" and not Path(anchored).exists():
            continue  # a Hub repo id, not a path
        entry["root"] = anchored


def to_dict(cfg: Any) -> dict[str, Any]:
    """The recipe as plain data (what ``recipe.resolved.yaml`` holds)."""
    return dataclasses.asdict(cfg)


def dump_recipe(cfg: RecipeConfig, path: str | Path) -> None:
    atomic_write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True))


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``a.b.c`` in nested data; a numeric part indexes a list (``data.corpora.0.root=/data/RAVDESS``)."""
    parts = key.split(".")
    node: Any = raw
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise RecipeError(f"override {key!r}: {part!r} is not an index of a list of {len(node)}")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise RecipeError(f"override {key!r}: {'.'.join(parts[:i])!r} is not a section")


# ------------------------------------------------------------------------------------------------ messages
def _problems(cls: type, error: ValidationError, where: str) -> list[str]:
    """One line per recipe key from pydantic's errors (a union's alternatives merged into one line)."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for err in error.errors():
        key = _dotted(cls, err["loc"], where)
        unknown = err["type"] in ("unexpected_keyword_argument", "extra_forbidden")
        by_key.setdefault(key if not unknown else f"\0{key}", []).append(err)
    return [_unknown_key(cls, key[1:], where) if key.startswith("\0") else problem_line(key, errs) for key, errs in by_key.items()]


def _dotted(cls: type, loc: tuple[Any, ...], where: str) -> str:
    """The dotted recipe key of a pydantic error location.

    A location also names union alternatives (``'str'``, ``'list[str]'``) and, for an unknown key, ends with
    it; walking the schema's fields tells them apart.
    """
    key, node = where, _schema_dataclass(cls)
    for i, part in enumerate(loc):
        if isinstance(part, int):
            key += f"[{part}]"
            continue
        names = {f.name: f for f in dataclasses.fields(node)} if node is not None else {}
        if part in names:
            key = f"{key}.{part}" if key else part
            node = _schema_dataclass(_field_types(node)[part])
        elif node is not None and i == len(loc) - 1:  # an unknown key, or a key of a free-form mapping
            return f"{key}.{part}" if key else part
        else:
            break
    return key


def _field_types(cls: type) -> dict[str, Any]:
    import typing

    return typing.get_type_hints(cls)


def _schema_dataclass(tp: Any) -> type | None:
    """The dataclass inside a field type (``X``, ``X | None``, ``list[X]``), if any."""
    import typing

    if dataclasses.is_dataclass(tp):
        return tp
    for arg in typing.get_args(tp):
        found = _schema_dataclass(arg)
        if found is not None:
            return found
    return None


def _unknown_key(cls: type, key: str, where: str) -> str:
    """``unknown recipe key 'train.lr_rate'; did you mean 'train.lr'?`` (closest key of the whole schema)."""
    parent, _, name = key.rpartition(".")
    siblings = _keys_under(cls, parent, where)
    elsewhere = {k.rpartition(".")[2]: k for k in reversed(recipe_keys(cls, where)) if "[" not in k}
    close = difflib.get_close_matches(name, siblings, n=1, cutoff=0.6)
    if not close:  # `lr_rate` for `lr`: a key that extends a valid one, or the other way round
        close = [k for k in siblings if name.startswith(k) or k.startswith(name)][:1]
    if close:
        hint = f"did you mean {(f'{parent}.{close[0]}' if parent else close[0])!r}?"
    elif name in elsewhere:  # a key of another section (`train.pooling`)
        hint = f"did you mean {elsewhere[name]!r}?"
    else:
        hint = f"valid keys here: {sorted(siblings)}"
    return f"unknown recipe key {key!r}; {hint}"


def _keys_under(cls: type, parent: str, where: str) -> list[str]:
    node: Any = cls
    rel = parent[len(where):].lstrip(".") if where and parent.startswith(where) else parent
    for part in [p.split("[")[0] for p in rel.split(".") if p]:
        node = _schema_dataclass(_field_types(node)[part]) if node is not None else None
    return [f.name for f in dataclasses.fields(node)] if node is not None else []


def recipe_keys(cls: type, prefix: str = "") -> list[str]:
    """Every dotted key of a schema dataclass, sections included (``train``, ``train.lr``, ...)."""
    out = []
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        out.append(key)
        inner = _schema_dataclass(_field_types(cls)[f.name])
        if inner is not None:
            out += recipe_keys(inner, key)
    return out
