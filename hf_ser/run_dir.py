"""The run directory: what a training run writes, under which names, and the only code that reads it back.

    <train.output_dir>/
      recipe.resolved.yaml        the recipe as run; with the manifests, the run's identity (resume checks it)
      run_info.json               versions, git commit, data fingerprint, process count (``run_info``)
      data_report.json            per corpus: files found / used / skipped (with reasons) / excluded
      manifests/                  train/valid/test.jsonl (one clip a line, ``MANIFEST_FIELDS``) + split.json
      metrics.json                ``FoldMetrics``: the protocol record, results, augmentation, cache (no seconds: a
                                  rerun of the same recipe writes the same file)
      timing.json                 wall / CPU seconds of training and test evaluation (``write_timing``)
      model/                      the model selected on validation (``save_pretrained`` + feature extractor)
      checkpoints/step_N/         resumable state (``hf_ser.training.checkpoints``)
      confusion_*.png reliability_*.png curves.png  plots
      fold_<k>/                   the per-fold files above, when the protocol has several folds
      aggregate.json aggregate.md mean ± std over folds

Writers (``hf_ser.train``, ``hf_ser.reporting``) take names and records from here; readers (the model card,
``hf-ser evaluate``'s protocol facts, the matrix, ``hf-ser benchmark emobox``) read through ``load_run`` / ``read_run_protocol``. A field a
reader needs is a field of a record here, so no reader can expect a key that no writer writes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hf_ser import __version__
from hf_ser.errors import RecipeError
from hf_ser.fsutil import TMP_PREFIX, atomic_write_text
from hf_ser.modality import SPEECH

logger = logging.getLogger(__name__)

RECIPE_FILE = "recipe.resolved.yaml"
RUN_INFO_FILE = "run_info.json"
DATA_REPORT_FILE = "data_report.json"
METRICS_FILE = "metrics.json"
TIMING_FILE = "timing.json"  # wall / CPU seconds of a fold: kept out of metrics.json so that a rerun's is identical
MANIFESTS_DIR = "manifests"
SPLIT_FILE = "split.json"
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
TRAINER_STATE_FILE = "trainer_state.json"  # inside each checkpoint folder
AGGREGATE_JSON = "aggregate.json"
AGGREGATE_MD = "aggregate.md"
CURVES_FILE = "curves.png"
CONFUSION_GLOB = "confusion_*.png"  # one plot per evaluated split and corpus (``hf_ser.reporting``)
RELIABILITY_GLOB = "reliability_*.png"  # one reliability diagram per evaluated split and corpus
FOLD_GLOB = "fold_[0-9]*"  # ``fold_dir``
SIDES = ("train", "valid", "test")
# What marks a folder as an hf_ser run: written first, before any other file of the run.
RUN_MARKERS = (RECIPE_FILE, RUN_INFO_FILE)
# Every entry hf_ser writes at the top of a run folder (``--overwrite`` removes these and nothing else), by name
# or glob. ``model_unmerged`` is the adapter copy of ``hf_ser.training.saving``; ``.tmp-*`` are half-written files
# of ``hf_ser.fsutil``; ``wandb`` is the wandb tracker's folder (others are named by ``tracking.project``).
RUN_ENTRIES = (
    RECIPE_FILE, RUN_INFO_FILE, DATA_REPORT_FILE, METRICS_FILE, TIMING_FILE, MANIFESTS_DIR, MODEL_DIR,
    f"{MODEL_DIR}_unmerged", CHECKPOINTS_DIR, AGGREGATE_JSON, AGGREGATE_MD, CURVES_FILE, CONFUSION_GLOB,
    RELIABILITY_GLOB, FOLD_GLOB, f"{TMP_PREFIX}*", "wandb",
)
# One manifest line per clip: paths relative to the corpus root (no machine paths), the corpus's own label
# (``orig_label``, e.g. RAVDESS "05") next to the canonical one the model learnt, and the clip's language.
MANIFEST_FIELDS = ("utt_id", "corpus", "rel_path", "speaker", "label", "orig_label", "language")


def fold_dir(run_dir: str | Path, fold_index: int, num_folds: int) -> Path:
    """Where a fold writes: the run directory itself for one-fold protocols, else ``fold_<k>/``."""
    return Path(run_dir) / f"fold_{fold_index}" if num_folds > 1 else Path(run_dir)


def checkpoint_dir(fold_dir: str | Path, step: int, *, partial: bool = False) -> Path:
    """A fold's checkpoint of optimizer step ``step``; ``partial``: the folder it is written in before the rename
    that completes it (``.tmp-step_N``, never read as a checkpoint)."""
    return Path(fold_dir) / CHECKPOINTS_DIR / f"{TMP_PREFIX if partial else ''}step_{step:08d}"


# ---------------------------------------------------------------------------------------------- records
@dataclass
class ProtocolRecord:
    """How a fold was trained and evaluated: the ``protocol`` section of ``metrics.json``."""

    corpora: list[str]  # training corpora (validation speakers come from them too)
    protocol: str  # fold protocol name (``hf_ser.splits.PROTOCOLS``)
    protocol_source: str  # where the protocol comes from (paper / repository)
    fold: int  # the protocol's own fold index
    speaker_independent: bool
    label_set: str | list[str]
    labels: list[str]  # the model's classes, by id
    task: str
    dims: list[str]
    # What the classifier was trained against (None for a regression-only model), stated in every report.
    targets: str | None  # "hard" or "soft" (vote distributions)
    targets_with_votes: int | None  # with soft targets: training clips whose target came from votes
    loss: str | None  # "ce" or "focal"
    focal_gamma: float | None
    class_weights: str | None
    test_speakers: list[str]
    valid_speakers: list[str]
    train_speakers: list[str]
    counts: dict[str, int]  # clips per side
    real_frame_fraction: float  # of the first epoch's training batches
    model_selection: str  # in words: which metric on which split picked the saved model
    # What the model reads (``hf_ser.modality``): "speech", or "speech+text" (a transcript encoder); absent in
    # metrics.json files written before it existed, which were all speech.
    modality: str = SPEECH
    recipe_changes: dict[str, Any] = field(default_factory=dict)  # allowed keys changed on resume: {key: [old, new]}
    # In words (``hf_ser.splits.speaker_sharing``): "speakers unknown", "speaker-dependent split (speakers shared: N)"
    # or "speaker-independent split (no speaker shared)"; "" in runs written before it was recorded.
    speakers: str = ""


@dataclass
class FoldMetrics:
    """``metrics.json`` of one fold: what the run measured, with the protocol it was measured under."""

    protocol: ProtocolRecord
    best_step: int  # optimizer step of the selected model
    # "valid/<corpus>", "test/<corpus>", "cross/<t>", "cross_unmasked/<t>"; speech + text models add
    # "test_speech_only/<corpus>" (the test clips scored without their transcripts)
    results: dict[str, dict[str, Any]]
    training: dict[str, Any]  # ``hf_ser.training.timing.LoopTiming.report``: audio seconds (real / padded), loss, batches
    augmentation: dict[str, Any] | None = None  # counts per augmentation (all training, resumes included)
    frozen_cache: dict[str, Any] | None = None  # hits / misses / rejected (over budget) / clips / mb of the cache
    parameters: dict[str, Any] | None = None  # trainable / total parameters and trainable_fraction (adapters: small)
    final_step: int | None = None  # the last optimizer step trained (the saved model is that of ``best_step``)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: v for k, v in out.items() if v is not None}


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically and durably (``hf_ser.fsutil``): a reader never sees half a file."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_jsonable))


def write_metrics(fold_path: Path, metrics: FoldMetrics) -> None:
    write_json(fold_path / METRICS_FILE, metrics.to_dict())


def write_timing(fold_path: Path, timing: dict[str, Any]) -> None:
    """``timing.json`` of a fold: ``{"training": LoopTiming.times(), "evaluation": {"test_eval_s": ...}}``."""
    write_json(fold_path / TIMING_FILE, timing)


def write_recipe(cfg, run_dir: Path) -> None:
    from hf_ser.config import dump_recipe

    dump_recipe(cfg, run_dir / RECIPE_FILE)


def run_info(cfg, data_fingerprint: str, num_processes: int) -> dict:
    """``run_info.json``: versions, git commit and data fingerprint, what a run needs to be reproduced."""
    import accelerate
    import datasets
    import torch
    import transformers

    return {
        "hf_ser": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "accelerate": accelerate.__version__,
        "cuda": torch.cuda.is_available(),
        "num_processes": num_processes,
        "data_fingerprint": data_fingerprint,
        "recipe": cfg.name,
    }


# ---------------------------------------------------------------------------------------------- identity
# Recipe keys a resumed run may change: how long it trains, how often it logs / validates / checkpoints, where
# it reports and caches. Everything else (data, split, model, optimisation) is the run's identity.
RESUMABLE_KEYS = (
    "name", "description", "resume", "overwrite", "folds", "push_to_hub", "hub_repo_id", "hub_private",
    "train.output_dir", "train.epochs", "train.max_steps", "train.log_every_n_steps", "train.eval_every_n_steps",
    "train.checkpoint_every_n_steps", "train.keep_checkpoints", "train.num_workers", "data.cache_dir",
    "tracking.*",
)


class RunDirError(RecipeError):
    """The output folder does not fit the request (occupied without --resume/--overwrite, or a changed recipe)."""


def recipe_changes(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Flattened keys whose value differs between two resolved recipes: ``{key: [stored, new]}``."""
    a, b = _flatten(stored), _flatten(new)
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def check_output_dir(cfg) -> dict[str, list[Any]]:
    """Decide whether ``cfg`` may train into ``cfg.train.output_dir``; returns the allowed recipe changes.

    * ``resume``: the stored ``recipe.resolved.yaml`` must equal the new recipe except for ``RESUMABLE_KEYS``
      (the allowed changes are returned, for the report); an empty or missing folder starts a new run.
    * ``overwrite``: a non-empty folder must be an hf_ser run (``RUN_MARKERS``) and not a folder whose clearing
      could hit other files (``refuse_to_clear``); the caller then clears it with ``clear_output_dir``.
    * otherwise a non-empty folder is refused.
    * a real folder holding only what a failed start wrote (``failed_start``) counts as empty: the corrected
      command needs no flag (the caller clears those files).

    Raises:
        RunDirError: one line naming the folder, the differing keys, and the fix.
    """
    from hf_ser.config import to_dict

    out = Path(cfg.train.output_dir)
    if cfg.overwrite and not cfg.resume and (out.exists() or out.is_symlink()):
        refuse_to_clear(out)
        return {}
    if not (out.is_dir() and any(out.iterdir())) or failed_start(out):
        return {}
    if not cfg.resume:
        if not is_run_dir(out):
            raise RunDirError(
                f"train.output_dir {out} is not empty and is not an hf_ser run (it has no {' or '.join(RUN_MARKERS)}): "
                "choose a new or empty train.output_dir (hf_ser never clears a folder it did not create)"
            )
        raise RunDirError(
            f"train.output_dir {out} holds an earlier run: pass --resume to continue it, --overwrite to replace "
            "it (hf_ser's files are deleted, its checkpoints included; other files are kept), or choose another "
            "train.output_dir"
        )
    stored = _load_yaml(out / RECIPE_FILE)
    if not stored:
        raise RunDirError(
            f"--resume: {out} holds no {RECIPE_FILE}, so it is not an hf_ser run to continue; choose the folder of "
            "the run to resume as train.output_dir"
        )
    changes = recipe_changes(_with_defaults(stored), to_dict(cfg))
    refused = [k for k in changes if not _resumable(k)]
    if refused:
        listed = ", ".join(f"{k} ({changes[k][0]!r} -> {changes[k][1]!r})" for k in refused)
        raise RunDirError(
            f"--resume: the recipe differs from the stored {out / RECIPE_FILE} in {listed} "
            "(data, split, model and optimisation keys cannot change on resume); run without those changes, or "
            "start a new run in another train.output_dir"
        )
    # Flags and machine paths are not part of the record (metrics.json may be pushed).
    return {k: v for k, v in changes.items() if k not in ("resume", "overwrite", "train.output_dir", "data.cache_dir")}


def _with_defaults(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored resolved recipe with the current schema's defaults filled in: a key added since it was written
    (whose default keeps the old behaviour) is no change. A recipe the schema no longer reads is compared as
    stored, so the differing keys are named."""
    from hf_ser.config import RecipeConfig, check_schema, to_dict

    try:
        return to_dict(check_schema(RecipeConfig, stored))
    except RecipeError:
        return stored


# What a run writes before its first training step: a start that fails (wrong corpus root, too few speakers)
# leaves only these, and they never block the next start.
START_FILES = frozenset({RECIPE_FILE, RUN_INFO_FILE, DATA_REPORT_FILE})


def failed_start(out: Path) -> bool:
    """Whether ``out`` is a real folder holding nothing but what a run writes before its first training step
    (``START_FILES`` and fold manifests): no checkpoint, model, metrics or file of anyone else."""
    if Path(out).is_symlink() or not Path(out).is_dir():
        return False
    files = [p.relative_to(out) for p in Path(out).rglob("*") if not p.is_dir()]
    return bool(files) and all(
        (len(rel.parts) == 1 and rel.name in START_FILES)
        or (len(rel.parts) in (2, 3) and rel.parts[-2] == MANIFESTS_DIR and (len(rel.parts) == 2 or rel.parts[0].startswith("fold_")))
        for rel in files
    )


def is_run_dir(path: str | Path) -> bool:
    """True when ``path`` carries an hf_ser run marker (``recipe.resolved.yaml`` or ``run_info.json``)."""
    return any((Path(path) / marker).is_file() for marker in RUN_MARKERS)


def refuse_to_clear(out: str | Path) -> None:
    """Raise unless ``out`` is a folder ``--overwrite`` may clear: a real (not symlinked) hf_ser run folder that
    is not ``/``, the home folder, the working directory or one of its ancestors.

    Raises:
        RunDirError: one line naming the folder and why it is not cleared.
    """
    out = Path(out)
    fix = "choose a new or empty train.output_dir"
    if out.is_symlink():
        raise RunDirError(f"--overwrite: train.output_dir {out} is a symbolic link; hf_ser clears only a real folder: {fix}")
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    protected = {p: "a parent of the working directory" for p in cwd.parents}
    protected.update({cwd: "the working directory", Path.home().resolve(): "your home folder",
                      Path(resolved.anchor): "the filesystem root"})
    if resolved in protected:
        raise RunDirError(f"--overwrite: train.output_dir {out} is {protected[resolved]}, which hf_ser never clears: {fix}")
    if out.is_dir() and any(out.iterdir()) and not is_run_dir(out):
        raise RunDirError(
            f"--overwrite: train.output_dir {out} is not an hf_ser run (it has no {' or '.join(RUN_MARKERS)}), so "
            f"nothing in it is cleared: {fix}"
        )


def tracker_dirs(cfg) -> tuple[str, ...]:
    """Folders the recipe's trackers write into the run folder (accelerate's tensorboard writes ``<project>/``)."""
    return (cfg.tracking.project,) if cfg.tracking.report_to else ()


def clear_output_dir(out: Path, *, extra: tuple[str, ...] = ()) -> list[str]:
    """``--overwrite``: delete hf_ser's own entries of the run folder ``out`` (``RUN_ENTRIES`` plus ``extra``, the
    tracker folders); every other file is kept, named in a warning, and returned (sorted names).

    Stale checkpoints never reach a later resume, and a user's notes next to the run survive.

    Raises:
        RunDirError: ``out`` is not a folder ``refuse_to_clear`` allows.
    """
    import shutil

    out = Path(out)
    refuse_to_clear(out)
    ours = {p for pattern in (*RUN_ENTRIES, *extra) for p in out.glob(pattern)}
    kept = []
    for child in sorted(out.iterdir()):
        if child not in ours:
            kept.append(child.name)
        elif child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if kept:
        logger.warning("--overwrite kept %d entries of %s that hf_ser did not write: %s", len(kept), out, ", ".join(kept))
    return kept


def _resumable(key: str) -> bool:
    return any(key == k or (k.endswith(".*") and key.startswith(k[:-1])) for k in RESUMABLE_KEYS)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


# ---------------------------------------------------------------------------------------------- manifests
def write_manifests(dataset, split, out_dir: str | Path) -> dict[str, Path]:
    """Write ``train.jsonl``, ``valid.jsonl``, ``test.jsonl`` and ``split.json`` into ``out_dir``.

    Manifest lines hold ``MANIFEST_FIELDS`` (paths relative to the corpus root, so manifests carry no machine
    paths), in row order; the same split always gives byte-identical files.

    Returns:
        ``{"train": path, "valid": path, "test": path, "split": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from hf_ser.corpora import read_columns

    columns = read_columns(dataset, MANIFEST_FIELDS)
    paths: dict[str, Path] = {}
    labels: dict[str, dict[str, int]] = {}
    for side in SIDES:
        indices: list[int] = getattr(split, side)
        counts: dict[str, int] = defaultdict(int)
        path = out / f"{side}.jsonl"
        lines = []
        for i in indices:
            row = {name: columns[name][i] for name in MANIFEST_FIELDS}
            counts[row["label"]] += 1
            lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        atomic_write_text(path, "".join(lines))
        paths[side] = path
        labels[side] = dict(sorted(counts.items()))
    summary = {
        "protocol": split.protocol,
        "fold": split.fold,
        "seed": split.seed,
        "valid_fraction": split.valid_fraction,
        "speaker_independent": split.speaker_independent,
        "counts": {side: len(getattr(split, side)) for side in SIDES},
        "labels": labels,
        "speakers": {side: list(getattr(split, f"{side}_speakers")) for side in SIDES},
    }
    paths["split"] = out / SPLIT_FILE
    atomic_write_text(paths["split"], json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return paths


def read_manifests(fold_path: Path) -> dict[str, list[dict[str, Any]]]:
    """The manifest rows of a fold directory by side (``{}`` when it has none)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for side in SIDES:
        path = Path(fold_path) / MANIFESTS_DIR / f"{side}.jsonl"
        if path.is_file():
            out[side] = _load_jsonl(path)
    return out


def read_split(fold_path: Path, dataset):
    """The split a fold trained on, read back from its manifests (a resumed run never re-draws it).

    Returns ``None`` when the fold has no manifests. Raises ``ValueError`` when a manifest clip is not in
    ``dataset`` (the data changed since the run started).
    """
    from hf_ser.splits import Split

    split_path = Path(fold_path) / MANIFESTS_DIR / SPLIT_FILE
    rows = read_manifests(fold_path)
    if not split_path.is_file() or set(rows) != set(SIDES):
        return None
    summary = json.loads(split_path.read_text(encoding="utf-8"))
    from hf_ser.corpora import clip_key, read_columns

    cols = read_columns(dataset, ("corpus", "utt_id"))
    index = {clip_key(c, u): i for i, (c, u) in enumerate(zip(cols["corpus"], cols["utt_id"]))}
    sides: dict[str, list[int]] = {}
    for side in SIDES:
        keys = [clip_key(r["corpus"], r["utt_id"]) for r in rows[side]]
        missing = [k for k in keys if k not in index]
        if missing:
            raise ValueError(
                f"{fold_path}: {len(missing)} clips of the stored {side} split are not in the data any more "
                f"(first: {missing[0]}); the run cannot be resumed on this data"
            )
        sides[side] = [index[k] for k in keys]
    speakers = summary["speakers"]
    return Split(
        protocol=summary["protocol"], fold=summary["fold"], train=sides["train"], valid=sides["valid"],
        test=sides["test"], train_speakers=tuple(speakers["train"]), valid_speakers=tuple(speakers["valid"]),
        test_speakers=tuple(speakers["test"]), speaker_independent=summary["speaker_independent"],
        seed=summary["seed"], valid_fraction=summary["valid_fraction"],
    )


# ---------------------------------------------------------------------------------------------- readers
@dataclass
class RunFiles:
    """A run directory as read back (empty dicts where a file is absent: a model from elsewhere)."""

    run_dir: Path
    recipe: dict[str, Any]
    metrics: dict[str, Any]  # this directory's metrics.json (a fold's, or a one-fold run's)
    run_info: dict[str, Any]
    folds: dict[str, dict[str, Any]]  # "fold_<k>" -> its metrics.json
    aggregate: dict[str, Any] | None
    manifest_rows: list[dict[str, Any]]  # every side of every fold

    @property
    def protocol(self) -> dict[str, Any]:
        """The ``ProtocolRecord`` of ``metrics.json`` (or the first fold's), as stored."""
        return self.metrics.get("protocol") or {}


def run_file(run_dir: Path, name: str) -> Path:
    """``run_dir/name``; for a ``fold_<k>`` directory, the parent's copy when the fold has none."""
    own = Path(run_dir) / name
    if not own.is_file() and own.parent.name.startswith("fold_") and (own.parent.parent / name).is_file():
        return own.parent.parent / name
    return own


def find_model(run_dir: Path) -> tuple[Path, str]:
    """The ``model/`` folder of a run: its own, else the first fold's; with a note saying which."""
    run_dir = Path(run_dir)
    if (run_dir / MODEL_DIR / "config.json").is_file():
        return run_dir / MODEL_DIR, f"the run's saved model, `{MODEL_DIR}/`"
    for fold in sorted(run_dir.glob(FOLD_GLOB), key=lambda p: p.name):
        if (fold / MODEL_DIR / "config.json").is_file():
            return fold / MODEL_DIR, f"the model of `{fold.name}`, as the run has no top-level `{MODEL_DIR}/`"
    raise FileNotFoundError(f"{run_dir} has no {MODEL_DIR}/config.json (nor fold_<k>/{MODEL_DIR}/config.json): not a finished run")


def load_run(run_dir: str | Path) -> RunFiles:
    """Read a run directory (or one of its ``fold_<k>`` directories)."""
    run_dir = Path(run_dir)
    folds = {p.parent.name: _load_json(p) for p in sorted(run_dir.glob(f"{FOLD_GLOB}/{METRICS_FILE}"))}
    metrics = _load_json(run_dir / METRICS_FILE)
    if not metrics and folds:
        metrics = next(iter(folds.values()))
    rows = [r for side in read_manifests(run_dir).values() for r in side]
    for fold in sorted(run_dir.glob(FOLD_GLOB)):
        rows += [r for side in read_manifests(fold).values() for r in side]
    aggregate = _load_json(run_dir / AGGREGATE_JSON) or None
    return RunFiles(
        run_dir=run_dir,
        recipe=_load_yaml(run_file(run_dir, RECIPE_FILE)),
        metrics=metrics,
        run_info=_load_json(run_file(run_dir, RUN_INFO_FILE)),
        folds=folds,
        aggregate=aggregate,
        manifest_rows=rows,
    )


def read_run_protocol(model_dir: str | Path) -> dict[str, Any]:
    """Protocol facts about a saved model from its run directory (``<model_dir>/..``), for ``hf-ser evaluate``.

    Returns:
        ``{"source_corpora", "validation_corpora", "folds", "model_label_set", "run_protocol"}``: from the
        ``ProtocolRecord`` of ``metrics.json``, else from the recipe; ``None`` when neither records it (a
        model from elsewhere). ``validation_corpora`` are the source corpora (hf_ser validates on held-out
        speakers of its training corpora). ``run_protocol`` is the stored record verbatim.
    """
    run = load_run(Path(model_dir).expanduser().resolve().parent)
    stored = run.metrics.get("protocol") if isinstance(run.metrics.get("protocol"), dict) else None
    data = run.recipe.get("data") if isinstance(run.recipe.get("data"), dict) else {}
    if stored:
        sources = list(stored["corpora"])
        folds = f"{stored['protocol']}, fold {stored['fold']}"
        label_set = stored["label_set"]
    else:
        sources = [c["name"] for c in data.get("corpora") or [] if isinstance(c, dict) and c.get("name")] or None
        folds = data.get("protocol")
        label_set = data.get("label_set")
    return {
        "source_corpora": sources,
        "validation_corpora": sources,
        "folds": folds,
        "model_label_set": label_set,
        "run_protocol": stored,
    }


def _load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        logger.warning("could not read %s (%s); treated as absent", path, e)
        return {}
    return value if isinstance(value, dict) else {}


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        logger.warning("could not read %s (%s); treated as absent", path, e)
        return {}
    return value if isinstance(value, dict) else {}


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
