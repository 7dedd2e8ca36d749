"""Typed recipe schema and ``load_recipe(path, overrides)``.

A recipe is a YAML file whose keys mirror the dataclasses below; anything not given keeps its default.
Overrides are ``key=value`` strings with dotted keys (``train.lr=3.0e-5``, ``model.pooling=attention``,
``folds=all``); values are parsed as YAML. Unknown keys and wrong types fail at load, naming the key.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from hf_ser.errors import RecipeError
from hf_ser.fsutil import atomic_write_text


@dataclass
class CorpusSpec:
    """One corpus of a run."""

    name: str
    """Registry name (``hf-ser corpora list``), e.g. ``ravdess``."""
    root: str
    """Folder the corpus was unpacked to (relative paths resolve against the working directory)."""
    label_map: dict[str, Any] = field(default_factory=dict)
    """Extra label mapping applied before the label set (``{calm: neutral}``; ``null`` drops a label)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Loader options, e.g. ``{vocal_channel: both}`` for RAVDESS."""


@dataclass
class DataConfig:
    corpora: list[CorpusSpec] = field(default_factory=list)
    """Training corpora; several are concatenated (speakers stay apart per corpus)."""
    label_set: Union[str, list[str]] = "all"
    """``all``, ``4class``, ``6class`` or an explicit list of canonical labels."""
    protocol: str = "holdout_speakers"
    """Fold protocol from ``hf_ser.splits.PROTOCOLS`` (e.g. ``ravdess_luna5``, ``iemocap_session_loso``)."""
    protocol_options: dict[str, Any] = field(default_factory=dict)
    """Options for the protocol (``num_folds``, ``test_fraction``, ``strict``, ...)."""
    valid_fraction: float = 0.2
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
    max_duration_s: float = 20.0
    """Training clips longer than this are randomly cropped; evaluation and prediction cut longer clips into
    windows of this length (50 % overlap, logits averaged per clip: hf_ser.evaluation.inference)."""
    max_file_s: Union[float, None] = 3600.0
    """Files of the training and evaluation corpora longer than this (read from the header, never decoded) are
    skipped as "too long" and counted in ``data_report.json``; ``null``: no limit. Bounds the memory one file
    can take when the audio store decodes it (a 116 KB FLAC may decode to hours)."""
    augment: list[dict[str, Any]] = field(default_factory=list)
    """Training-only augmentations, e.g. ``[{name: word_swap, mode: ravdess, p: 0.5}, {name: noise, snr_db: [10, 30]}]``."""
    alignment: dict[str, Any] = field(default_factory=dict)
    """Word boundaries for word swap: ``{aligner: ctc|wdseg|textgrid|pause, min_score: ..., <aligner options>}``,
    e.g. ``{aligner: ctc, model: facebook/wav2vec2-base-960h}``; computed once per corpus and cached."""


@dataclass
class AdapterConfig:
    """LoRA adapters on the backbone through ``peft``: the base stays frozen, only adapters and head train, and
    the saved model has them merged (a plain model)."""

    type: Literal["lora"] = "lora"
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    target_modules: Union[str, list[str]] = "ffn"
    """``ffn`` (feed-forward layers), ``attention`` (q/k/v/out projections; not WavLM) or module-name suffixes."""
    layers: Union[str, list[int]] = "all"
    """``all`` (every trainable layer), ``upper_half``, or a list of layer indices."""


@dataclass
class ModelConfig:
    """The model of a run. Each field reaches the builder of ``kind`` by name (``hf_ser.model_kinds``)."""

    kind: str = "wav2vec2"
    """Model family (``wav2vec2`` covers every wav2vec2-style encoder)."""
    backbone: str = "facebook/wav2vec2-large-xlsr-53"
    """Hub name, local path, or ``shape:<name>`` for a random-initialised shape written in code."""
    num_frozen_layers: int = 0
    """Bottom transformer layers run without autograd (plus the CNN when ``freeze_feature_encoder``)."""
    freeze_feature_encoder: bool = True
    layers: Union[str, int] = "last"
    """Which hidden states feed the head: ``last``, a layer index, or ``weighted`` (SUPERB)."""
    pooling: str = "mean"
    pooling_kwargs: dict[str, Any] = field(default_factory=dict)
    head_hidden_size: Union[int, None] = None
    dropout: float = 0.1
    task: Literal["classification", "regression", "multitask"] = "classification"
    dims: list[str] = field(default_factory=list)
    """Dimensional targets for regression / multitask: ``valence``, ``arousal``, ``dominance``."""
    label_smoothing: float = 0.0
    regression_loss_weight: float = 1.0
    """Weight of the (1 - CCC) loss next to the cross-entropy in ``task: multitask``."""
    class_weights: Union[str, None] = None
    """``balanced`` weights the loss by inverse class frequency of the training split (class-prior weights)."""
    targets: Literal["hard", "soft"] = "hard"
    """``hard``: one label per clip; ``soft``: the annotators' vote distribution (the ``votes`` column; clips
    without votes fall back to their hard label). Cross-entropy against it is EMO-SUPERB's soft-label loss."""
    loss: Literal["ce", "focal"] = "ce"
    """Classification loss: cross-entropy or focal loss (with ``class_weights: balanced`` = focal loss with
    class-prior weights)."""
    focal_gamma: float = 2.0
    """Focusing parameter of the focal loss (0 = weighted cross-entropy)."""
    layerdrop: float = 0.0
    gradient_checkpointing: bool = False
    mask_time_prob: Union[float, None] = None
    adapter: Union[AdapterConfig, None] = None
    """LoRA adapters, e.g. ``{type: lora, r: 8, alpha: 16, layers: upper_half}`` (null: full fine-tuning)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Options for non-wav2vec2 model kinds."""
    attn_implementation: Union[Literal["sdpa", "eager", "flash_attention_2"], None] = None
    """Backbone attention kernel; None: transformers' default (SDPA where the backbone supports it: wav2vec2,
    XLS-R, HuBERT; WavLM has only ``eager``)."""


@dataclass
class TrainConfig:
    output_dir: str = "runs/default"
    epochs: int = 10
    max_steps: Union[int, None] = None
    """Stop after this many optimizer steps (overrides ``epochs`` when set)."""
    batch_size: int = 8
    """Clips per batch per process."""
    max_batch_audio_s: Union[float, None] = None
    """Alternative to ``batch_size``: padded audio seconds per batch (token-budget batching)."""
    grad_accum_steps: int = 1
    lr: float = 1.0e-4
    """Learning rate of the backbone."""
    head_lr: Union[float, None] = None
    """Learning rate of the pooling head and classifier (default: ``lr``)."""
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    scheduler: Literal["linear", "cosine", "constant"] = "linear"
    max_grad_norm: float = 1.0
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"
    """``auto``: bf16 on a GPU that supports it, fp16 on other GPUs, fp32 on CPU."""
    seed: int = 0
    eval_every_n_steps: Union[int, None] = None
    """Validate every N optimizer steps (default: at the end of each epoch)."""
    select_metric: Literal["ua", "wa", "macro_f1", "ccc", "loss"] = "ua"
    """Validation metric that picks the best checkpoint (``ccc`` = mean concordance for regression)."""
    ema_decay: Union[float, None] = None
    """Exponential moving average of the trainable weights, updated after every optimizer step with this decay
    (e.g. 0.999); validation, model selection and the saved model use the average (None: off)."""
    temperature_scaling: bool = True
    """Fit one temperature on the validation split after model selection (minimising its negative log-likelihood)
    and store it in the saved model: reported probabilities, calibration figures (ECE, Brier) and ``predict`` use
    ``softmax(logits / T)``. It never changes a prediction (the arg-max is the same), only the confidences."""
    early_stopping_patience: Union[int, None] = None
    """Stop after this many validations without improvement."""
    checkpoint_every_n_steps: Union[int, None] = None
    """Write a resumable checkpoint every N steps (also at every epoch end)."""
    keep_checkpoints: int = 2
    frozen_cache_mb: float = 0.0
    """RAM budget for caching the frozen part's output across epochs (0 = off). Used only when layers are
    frozen, no waveform augmentation runs, and the clip is not randomly cropped (its waveform never changes)."""
    frozen_cache_device: Literal["cpu", "pinned", "device"] = "cpu"
    """Where the frozen-output cache lives: RAM, page-locked RAM (fast non-blocking copies to a GPU), or the
    accelerator's own memory (no copies; the budget must fit beside the model)."""
    bucket_by_length: bool = True
    balanced_sampling: bool = False
    num_workers: int = 0
    """DataLoader worker processes (each runs with one torch thread); on CUDA, batches use pinned memory and
    non-blocking copies whatever this is."""
    compile: bool = False
    """``torch.compile`` the model (inductor, static shapes). Batches are then padded to a fixed ladder of
    lengths (``hf_ser.data.batching.pad_ladder``) so it compiles once per rung, not once per batch. Off by
    default: the first steps pay the compilation, and on a CPU the gain is small."""
    log_every_n_steps: int = 10


@dataclass
class TrackingConfig:
    report_to: list[str] = field(default_factory=list)
    """Accelerate trackers: ``wandb``, ``tensorboard``, ... (empty: none)."""
    project: str = "hf_ser"
    run_name: Union[str, None] = None
    tags: list[str] = field(default_factory=list)


@dataclass
class RecipeConfig:
    name: str = "run"
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    folds: str = "0"
    """Folds of the protocol to run: ``all``, one index, or a list such as ``0,3``."""
    resume: bool = False
    """Continue from the newest checkpoint in the run directory (the recipe must match the stored one, see
    ``hf_ser.run_dir.RESUMABLE_KEYS``)."""
    overwrite: bool = False
    """Clear a non-empty ``train.output_dir`` (stale checkpoints included) before training; without it (and
    without ``resume``) a non-empty output folder is refused."""
    push_to_hub: bool = False
    hub_repo_id: Union[str, None] = None
    hub_private: bool = False


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

    The schema (keys, types) is checked here; ``validate=True`` (the default) then runs
    ``hf_ser.validate.validate_recipe``: registry names, every option dict against its builder, value ranges.
    ``validate=False`` is for tools that read a partial recipe (e.g. a matrix base whose corpora are replaced).

    Raises:
        RecipeError: unknown key, wrong type, malformed override, unknown registry name, unknown option or
            out-of-range value (the message names the key and the valid choices).
    """
    cfg = parse_recipe(path, overrides)
    if validate:
        from hf_ser.validate import validate_recipe  # the registries are imported only when a run is checked

        validate_recipe(cfg)
    return cfg


def parse_recipe(path: str | Path | None, overrides: list[str] | None = None) -> RecipeConfig:
    """The schema half of ``load_recipe``: YAML + overrides -> ``RecipeConfig`` (keys and types checked)."""
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
    try:
        return _build(RecipeConfig, raw, "")
    except RecipeError as e:  # the message may quote a value of any size: one bounded line
        raise RecipeError(bounded(str(e))) from None


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


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise RecipeError(f"{where or 'recipe'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise RecipeError(f"unknown recipe key {key!r}; valid keys here: {sorted(names)}")
    kwargs = {}
    for name, value in raw.items():
        key = f"{where}.{name}" if where else name
        kwargs[name] = _convert(hints[name], value, key)
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise RecipeError(f"{where or 'recipe'}: missing required key(s) {missing}")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if origin in (Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        if value is not None and len(options) == 1:  # Optional[X]: X's own error names the inner key
            return _convert(options[0], value, key)
        # Try None first so that `null` works, then the declared order.
        for arg in sorted(args, key=lambda a: a is not type(None)):
            try:
                return _convert(arg, value, key)
            except RecipeError:
                continue
        raise RecipeError(f"{key}: {value!r} fits none of {_type_name(tp)}")
    if origin is Literal:
        if value not in args:
            raise RecipeError(f"{key}: {value!r} is not one of {list(args)}")
        return value
    if origin is list:
        if isinstance(value, str) and args and args[0] is str and "," in value:
            value = [v.strip() for v in value.split(",")]
        if not isinstance(value, list):
            raise RecipeError(f"{key}: expected a list, got {value!r}")
        return [_convert(args[0], v, f"{key}[{i}]") for i, v in enumerate(value)] if args else value
    if origin is dict:
        if not isinstance(value, dict):
            raise RecipeError(f"{key}: expected a mapping, got {value!r}")
        if len(args) == 2 and args[1] is not Any:
            return {k: _convert(args[1], v, f"{key}.{k}") for k, v in value.items()}
        return dict(value)
    if tp is type(None):
        if value is not None:
            raise RecipeError(f"{key}: expected null")
        return None
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise RecipeError(f"{key}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool):
            raise RecipeError(f"{key}: expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            # PyYAML reads `1e-5` (no dot) as a string; accept it for float fields.
            try:
                return float(value)
            except ValueError:
                pass
        raise RecipeError(f"{key}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key.endswith("folds"):
            return str(value)  # `folds=3` parses as an int
        if not isinstance(value, str):
            raise RecipeError(f"{key}: expected a string, got {value!r}")
        return value
    raise RecipeError(f"{key}: unsupported schema type {tp!r}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
