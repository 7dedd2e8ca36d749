"""Fine-tune a speech emotion model on a recipe.

    accelerate launch hf_ser/train.py recipes/demo/ravdess_tiny.yaml [key=value ...] [--resume | --overwrite]
    python -m hf_ser.train recipes/demo/ravdess_tiny.yaml train.epochs=2

``main(argv)`` parses; ``run(cfg)`` does the work and is what in-process callers use (``hf-ser matrix``,
``hf-ser bench``). Reads top to bottom: output folder check -> Accelerator -> corpora (decoded once) -> folds
-> per fold (``run_fold``): ``_setup_data``, ``_setup_model``, ``_setup_optim``, ``prepare``, the training loop
with its one stop rule (``loop.Stopping``) and validation-based model selection, test and cross-corpus
evaluation, save (and push) -> aggregate over folds.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator, DistributedDataParallelKwargs
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from hf_ser.acceleration import accelerator_kwargs, compile_pad_lengths
from hf_ser.audio import SAMPLE_RATE
from hf_ser.augment.align import compute_alignments
from hf_ser.baselines.targets import dims_array
from hf_ser.config import RecipeConfig, add_recipe_arguments, fold_numbers, recipe_from_args, to_dict
from hf_ser.corpora import vote_matrix
from hf_ser.data.batching import BucketBatchSampler, ClipDataset, Collator
from hf_ser.data.frozen_cache import FrozenCacheModel, FrozenOutputCache, cacheable_clips
from hf_ser.data.loaders import (
    balanced_weights,
    class_weights,
    keep_rows,
    loader_generator,
    loader_kwargs,
    soft_targets,
)
from hf_ser.data.prepare import PreparedData, prepare_corpora
from hf_ser.data.store import default_cache_root
from hf_ser.errors import RecipeError
from hf_ser.evaluation.guard import check_not_validation
from hf_ser.evaluation.inference import WINDOW_CONFIG_KEY, eval_loader
from hf_ser.loop import (
    EvalOutput,
    LoopTiming,
    Stopping,
    TrainerState,
    build_optimizer,
    build_scheduler,
    evaluate_target,
    load_latest_checkpoint,
    predict,
    save_checkpoint,
    save_model,
    score,
    subset,
)
from hf_ser.metrics import balanced_indices
from hf_ser.model_kinds import build_model_of_kind, min_input_samples
from hf_ser.models import build_feature_extractor, parameter_counts
from hf_ser.reporting import aggregate_folds, metric_line, save_confusions, save_curves, summary_table
from hf_ser.run_dir import (
    CURVES_FILE,
    DATA_REPORT_FILE,
    MANIFESTS_DIR,
    MODEL_DIR,
    RECIPE_FILE,
    RUN_INFO_FILE,
    FoldMetrics,
    ProtocolRecord,
    check_output_dir,
    clear_output_dir,
    fold_dir,
    read_split,
    run_info,
    write_json,
    write_manifests,
    write_metrics,
    write_recipe,
)
from hf_ser.splits import PROTOCOLS, Fold, Split, make_folds, split_fold
from hf_ser.validate import validate_recipe

logger = logging.getLogger("hf_ser.train")

# What a training step passes to the model from a collated batch.
STEP_INPUTS = ("input_values", "attention_mask", "labels", "dims", "input_lengths")


def parse_args(argv: list[str] | None) -> RecipeConfig:
    """The checked recipe of a training command line (``hf_ser.config.add_recipe_arguments``)."""
    parser = argparse.ArgumentParser(prog="hf_ser/train.py", description=__doc__.splitlines()[0])
    add_recipe_arguments(parser)
    return recipe_from_args(parser.parse_args(argv))


def setup_logging() -> None:
    """INFO logs with timestamps; accelerate's per-file checkpoint logs off (the progress bar says where we are)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("accelerate").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """In-process command-line entry: parse the recipe and overrides, then ``run`` it (errors propagate; the
    ``hf-ser train`` command and the script entry print user errors as one line)."""
    setup_logging()
    run(parse_args(argv))
    return 0


def run(cfg: RecipeConfig, *, on_model: Callable[[torch.nn.Module], None] | None = None) -> dict[str, Any]:
    """Train every chosen fold of ``cfg`` in this process (what ``main`` does after parsing).

    Args:
        cfg: the resolved recipe.
        on_model: called with each fold's freshly built model before ``prepare`` (the benchmark's ablations
            use it to change how layers are frozen); ``None`` for normal runs.

    Returns:
        ``{"run_dir": str, "folds": {fold index: the fold's metrics.json content}, "aggregate": dict | None}``.
    """
    run_dir = Path(cfg.train.output_dir)
    # Before any work: the whole recipe (configs built in code, such as matrix cells and bench variants, are
    # checked like loaded ones), then the output folder (a non-empty one needs --resume with the stored recipe,
    # or --overwrite).
    validate_recipe(cfg)
    recipe_changes = check_output_dir(cfg)
    _warn_single_process_cpu_launch()
    accelerator = Accelerator(
        # Launched by torchrun (`accelerate launch --multi_gpu`) on a machine without CUDA: DDP over gloo.
        cpu=not torch.cuda.is_available() and "LOCAL_RANK" in os.environ,
        gradient_accumulation_steps=cfg.train.grad_accum_steps,
        mixed_precision=_precision(cfg.train.mixed_precision),
        log_with=cfg.tracking.report_to or None,
        project_dir=str(run_dir),
        # Frozen layers have requires_grad=False, so DDP never waits for their gradients.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=False)],
        **accelerator_kwargs(cfg.train),  # non-blocking copies on CUDA, torch.compile when asked
    )
    set_seed(cfg.train.seed)
    _refuse_target_as_training(cfg)
    if accelerator.is_main_process:
        if cfg.overwrite and not cfg.resume and run_dir.is_dir():
            clear_output_dir(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if not (cfg.resume and (run_dir / RECIPE_FILE).is_file()):  # a resumed run keeps its recipe
            write_recipe(cfg, run_dir)
        elif recipe_changes:
            logger.info("resuming with changed %s", recipe_changes)
    accelerator.wait_for_everyone()

    # Decode every corpus once (cached across runs). Every process calls this: per cache folder one builds under
    # a file lock and the others wait on the lock, not on a collective barrier, so a long first build on a
    # node-local or shared disk cannot hit the process group's timeout.
    # Clips shorter than the CNN's receptive field give no frame: the loaders skip them as "too short".
    min_samples = min_input_samples(cfg.model)
    data = prepare_corpora(
        cfg.data.corpora, label_set=cfg.data.label_set, cache_dir=cfg.data.cache_dir,
        progress=accelerator.is_main_process, min_samples=min_samples, store_dtype=cfg.data.store_dtype,
    )
    targets = {
        spec.name: prepare_corpora(
            [spec], label_set="all", cache_dir=cfg.data.cache_dir, progress=False, min_samples=min_samples,
            store_dtype=cfg.data.store_dtype,
        )
        for spec in cfg.data.eval_corpora
    }
    if accelerator.is_main_process:
        report = {"train": data.report(), "targets": {n: t.report() for n, t in targets.items()}}
        write_json(run_dir / DATA_REPORT_FILE, report)
        write_json(run_dir / RUN_INFO_FILE, run_info(cfg, data.fingerprint(), accelerator.num_processes))

    alignments = None
    if any(spec.get("name") == "word_swap" for spec in cfg.data.augment):
        # Word boundaries of every clip, computed once per corpus (not per fold) and cached.
        with accelerator.main_process_first():
            alignments = compute_alignments(
                data.dataset, cfg.data.alignment, get_wave=data.wave, progress=accelerator.is_main_process,
                cache_root=Path(cfg.data.cache_dir) if cfg.data.cache_dir else default_cache_root(),
            )

    protocol = PROTOCOLS[cfg.data.protocol]
    folds = make_folds(data.dataset, cfg.data.protocol, seed=cfg.train.seed, **cfg.data.protocol_options)
    chosen = _select_folds(cfg.folds, folds)
    if cfg.tracking.report_to:
        accelerator.init_trackers(
            cfg.tracking.project,
            config=_flat(to_dict(cfg)),
            init_kwargs={"wandb": {"name": cfg.tracking.run_name or cfg.name, "tags": cfg.tracking.tags, "dir": str(run_dir)}},
        )
    fold_metrics = {}
    for fold in chosen:
        fold_metrics[fold.index] = run_fold(
            cfg, accelerator, data, targets, fold, fold_dir(run_dir, fold.index, len(folds)),
            speaker_independent=protocol.speaker_independent, alignments=alignments, on_model=on_model,
            recipe_changes=recipe_changes,
        )
        accelerator.free_memory()
    aggregate = None
    if accelerator.is_main_process and len(folds) > 1:
        aggregate = aggregate_folds(run_dir, fold_metrics, protocol=cfg.data.protocol, speaker_independent=protocol.speaker_independent)
    if accelerator.is_main_process and cfg.push_to_hub:
        from hf_ser.hub import push_run

        # Once per run, after the aggregate: the card shows every fold and mean ± std.
        push_run(run_dir, cfg.hub_repo_id or cfg.name, private=cfg.hub_private)
    accelerator.end_training()
    return {"run_dir": str(run_dir), "folds": fold_metrics, "aggregate": aggregate}


@dataclass(frozen=True)
class Selection:
    """Model selection: score the selection split, and ``save_pretrained`` the model into ``dir`` whenever the
    stop rule calls it the best so far (selection never looks at test unless the recipe replicates a paper that
    did). With no selection rows (``data.selection_split: none``) nothing is scored and the caller saves the final
    model.
    """

    dir: Path
    feature_extractor: Any
    loader: Any  # the prepared loader of the selection rows
    fd: FoldData
    fold_index: int
    corpora: list[str]
    # The selected model's validation predictions, by its step: the results reuse them rather than predicting the
    # validation split again with the same weights reloaded from ``dir``.
    best: dict[int, EvalOutput] = field(default_factory=dict)

    def validate(self, accelerator: Accelerator, model, state: TrainerState, stopping: Stopping) -> None:
        if not self.fd.select_idx:
            return
        out = predict(accelerator, model, self.loader)
        metrics = score(out, self.fd.label_names, dims=self.fd.dims)
        logged = {f"valid_{m}": metrics[m] for m in ("ua", "wa", "macro_f1", "ccc", "loss") if m in metrics}
        state.history.append({"step": state.step, "epoch": state.epoch, **logged})
        accelerator.log({f"fold{self.fold_index}/{k}": v for k, v in logged.items()}, step=state.step)
        if accelerator.is_main_process:
            logger.info("fold %d step %d: %s", self.fold_index, state.step, metric_line(metrics, f"valid ({self.corpora})"))
        if stopping.improved(state, metrics):
            self.best.clear()
            self.best[state.step] = out
            self.save(accelerator, model)

    def save(self, accelerator: Accelerator, model: torch.nn.Module) -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            save_model(_inner(accelerator.unwrap_model(model)), self.feature_extractor, self.dir)
        accelerator.wait_for_everyone()


@dataclass
class FoldData:
    """One fold's data side: the split, label ids, augmentation and the (not yet prepared) loaders."""

    split: Split
    label_names: list[str]
    ids: np.ndarray  # label id of every dataset row, -100 where the label is not a model class
    dims: tuple[str, ...]
    targets_dims: np.ndarray | None
    augment: Any
    soft: np.ndarray | None  # (train clips, classes) vote distributions with ``model.targets: soft``
    n_voted: int  # training clips whose soft target comes from votes (the rest: their hard label)
    sampler: BucketBatchSampler
    clip_lengths: list[int]  # full length of each training clip (samples)
    max_samples: int
    select_idx: list[int]  # rows model selection scores (validation, or test for published test selection)
    train_loader: torch.utils.data.DataLoader
    valid_loader: torch.utils.data.DataLoader
    test_loader: torch.utils.data.DataLoader


def run_fold(
    cfg: RecipeConfig,
    accelerator: Accelerator,
    data: PreparedData,
    targets: dict[str, PreparedData],
    fold: Fold,
    fold_dir: Path,
    *,
    speaker_independent: bool,
    alignments=None,
    on_model: Callable[[torch.nn.Module], None] | None = None,
    recipe_changes: dict | None = None,
) -> dict:
    """Train, select on validation, test, and save one fold. Returns the fold's ``metrics.json`` content.

    ``recipe_changes``: the keys a resumed run changed (allowed by ``run_dir.RESUMABLE_KEYS``), for the report.
    """
    tc = cfg.train
    set_seed(tc.seed + fold.index)
    fd = _setup_data(cfg, accelerator, data, fold, fold_dir, speaker_independent, alignments)
    model, cacheable = _setup_model(cfg, accelerator, fd, fold)
    parameters = parameter_counts(_inner(model))  # before training: the selected model is reloaded merged
    logger.info("trainable parameters: %d of %d (%.4f%%)", parameters["trainable"], parameters["total"], 100 * parameters["trainable_fraction"])
    if on_model is not None:
        on_model(model)
    feature_extractor = build_feature_extractor()
    optimizer, scheduler, stopping = _setup_optim(cfg, accelerator, model, fd)
    model, optimizer, train_loader, valid_loader, test_loader, scheduler = accelerator.prepare(
        model, optimizer, fd.train_loader, fd.valid_loader, fd.test_loader, scheduler
    )
    state = TrainerState()
    restored = load_latest_checkpoint(accelerator, fold_dir) if cfg.resume else None
    if restored is not None:
        state, ckpt = restored
        state.done = stopping.finished(state)  # epochs / max_steps may have been raised for the resumed run
        logger.info("resumed %s at epoch %d, step %d", ckpt, state.epoch, state.step)
    selection = Selection(fold_dir / MODEL_DIR, feature_extractor, valid_loader, fd, fold.index, [s.name for s in cfg.data.corpora])

    # ------------------------------------------------------------------ the training loop
    progress = tqdm(total=stopping.total_steps, initial=state.step, disable=not accelerator.is_main_process, desc=f"fold {fold.index}", unit="step")
    timing = LoopTiming(accelerator.device)
    while stopping.keep_going(state):
        train_loader.set_epoch(state.epoch)
        fd.sampler.resume_at(state.epoch, start_batch=state.batches_done)
        model.train()
        timing.start_epoch()
        for batch in timing.batches(train_loader):
            with accelerator.accumulate(model):
                # No host-device sync on a step that does not log: clip lengths and keys come as host ints from the
                # collator (input_lengths, host_index), never read back from the device (tests/test_host_syncs.py).
                inputs = {k: v for k, v in batch.items() if k in STEP_INPUTS}
                if tc.compile:  # host ints in the arguments would make dynamo recompile for every batch
                    inputs.pop("input_lengths", None)
                if cacheable is not None:
                    keys = batch["host_index"]
                    inputs.update(cache_keys=keys, cacheable=[cacheable[i] for i in keys])
                loss = model(**inputs).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients and tc.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), tc.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            state.batches_done += accelerator.num_processes
            state.count_augmented(batch.get("augmented", ()))
            timing.add_batch(loss, batch["attention_mask"])  # on the device: no host sync per step
            if not accelerator.sync_gradients:
                continue
            state.step += 1
            progress.update(1)
            if state.step % tc.log_every_n_steps == 0 or state.step == 1:
                mean_loss, rate = timing.read(accelerator.num_processes)  # the only host sync of a training step
                progress.set_postfix(loss=f"{mean_loss:.3f}", audio_s_per_s=f"{rate:.1f}")
                accelerator.log({f"fold{fold.index}/train_loss": mean_loss, f"fold{fold.index}/lr": scheduler.get_last_lr()[0], f"fold{fold.index}/audio_s_per_s": rate}, step=state.step)
                state.history.append({"step": state.step, "epoch": state.epoch, "train_loss": mean_loss})
            if tc.eval_every_n_steps and state.step % tc.eval_every_n_steps == 0:
                timing.pause()
                selection.validate(accelerator, model, state, stopping)
                model.train()
                timing.resume()
            if tc.checkpoint_every_n_steps and state.step % tc.checkpoint_every_n_steps == 0:
                timing.pause()
                save_checkpoint(accelerator, fold_dir, state, keep=tc.keep_checkpoints)
                timing.resume()
            if stopping.stop_after_step(state):
                break
        timing.end_epoch()
        if not stopping.stop_after_step(state):  # the epoch ran to its end
            state.epoch += 1
            state.batches_done = 0
            if not tc.eval_every_n_steps:
                selection.validate(accelerator, model, state, stopping)
        state.done = stopping.finished(state)
        save_checkpoint(accelerator, fold_dir, state, keep=tc.keep_checkpoints)
    progress.close()
    if not _validated_at(state):
        selection.validate(accelerator, model, state, stopping)  # stopped between validations: score the final weights too
    if not fd.select_idx:  # no model selection (data.selection_split: none): the final model is the model
        state.best_step = state.step
        selection.save(accelerator, model)

    # ------------------------------------------------------------------ test and cross-corpus evaluation, best model
    accelerator.wait_for_everyone()
    cache = accelerator.unwrap_model(model).cache if cacheable is not None else None
    # The selected model's validation predictions were made when it was selected (none after a resume that
    # selected it before: then the split is predicted again).
    valid_out = selection.best.get(state.best_step)
    model = accelerator.prepare(type(_inner(accelerator.unwrap_model(model))).from_pretrained(selection.dir))
    results, test_eval_s = _evaluate(cfg, accelerator, model, fd, data, targets, valid_loader, test_loader, valid_out=valid_out)
    record = FoldMetrics(
        protocol=_protocol_record(cfg, fold, fd, recipe_changes or {}),
        best_step=state.best_step,
        results=results,
        parameters=parameters,
        training={
            **timing.report(accelerator.num_processes),
            "test_eval_s": round(test_eval_s, 4),
            "test_audio_s": sum(data.num_samples(i) for i in fd.split.test) / SAMPLE_RATE,
        },
        # This process's batches (each process augments its own), resumes included.
        augmentation={**fd.augment.report(), "applied": dict(state.augmented)} if fd.augment is not None else None,
        frozen_cache=cache.summary() if cache is not None else None,
    )
    metrics = record.to_dict()
    if accelerator.is_main_process:
        write_metrics(fold_dir, record)
        save_confusions(fold_dir, results)
        save_curves(fold_dir / CURVES_FILE, state.history)
        accelerator.print(summary_table(metrics, fold_dir))
    accelerator.wait_for_everyone()
    return metrics


# ---------------------------------------------------------------------------------------------- fold setup
def _setup_data(
    cfg: RecipeConfig, accelerator: Accelerator, data: PreparedData, fold: Fold, fold_dir: Path,
    speaker_independent: bool, alignments,
) -> FoldData:
    """The fold's split, label ids built from its training side, augmentation, loaders.

    A new fold draws its split and writes the manifests; a resumed one reads its split back from them.
    """
    tc = cfg.train
    split = read_split(fold_dir, data.dataset) if cfg.resume else None
    if split is None:
        split = split_fold(data.dataset, fold, valid_fraction=cfg.data.valid_fraction, seed=tc.seed, speaker_independent=speaker_independent)
        if accelerator.is_main_process:
            fold_dir.mkdir(parents=True, exist_ok=True)
            write_manifests(data.dataset, split, fold_dir / MANIFESTS_DIR)
    all_labels = data.column("label")
    dims = tuple(cfg.model.dims) if cfg.model.task != "classification" else ()
    targets_dims = dims_array(data.dataset, dims) if dims else None
    if dims:  # clips without dimensional labels cannot train or score a regression head
        split = keep_rows(split, np.isfinite(targets_dims).all(axis=1))
    label_names = sorted({all_labels[i] for i in split.train}) if cfg.model.task != "regression" else []
    label2id = {name: i for i, name in enumerate(label_names)}
    ids = np.array([label2id.get(lab, -100) for lab in all_labels], dtype=np.int64)

    max_samples = int(cfg.data.max_duration_s * SAMPLE_RATE)
    train_rows = data.dataset.select(split.train)
    augment = _build_augment(cfg, train_rows, data, split, alignments, tc.seed)
    soft, n_voted = soft_targets(train_rows, label_names, ids[split.train]) if cfg.model.targets == "soft" and label_names else (None, 0)
    train_set = ClipDataset(
        lambda i: data.wave(split.train[i]), ids[split.train], dims=targets_dims[split.train] if dims else None,
        soft=soft, max_samples=max_samples, augment=augment, seed=tc.seed,
    )
    clip_lengths = [data.num_samples(i) for i in split.train]
    sampler = BucketBatchSampler(
        [min(n, max_samples) for n in clip_lengths],
        batch_size=tc.batch_size,
        max_batch_samples=int(tc.max_batch_audio_s * SAMPLE_RATE) if tc.max_batch_audio_s else None,
        num_replicas=accelerator.num_processes,
        bucket=tc.bucket_by_length,
        seed=tc.seed + fold.index,
        weights=balanced_weights(ids[split.train]) if tc.balanced_sampling else None,
    )
    pads = compile_pad_lengths(tc, int(data.lengths.min()), int(data.lengths.max()))  # () unless train.compile
    train_loader = torch.utils.data.DataLoader(
        train_set, batch_sampler=sampler, collate_fn=Collator(pad_lengths=pads), num_workers=tc.num_workers,
        generator=loader_generator(tc.seed), **loader_kwargs(tc.num_workers),
    )
    # Selecting on the test fold only replicates papers that did so; the protocol in every report says it.
    select_idx = {"test": split.test, "valid": split.valid, "none": []}[cfg.data.selection_split]
    loader_args = dict(
        window=max_samples, batch_size=tc.batch_size, num_workers=tc.num_workers, seed=tc.seed, dims=targets_dims, pad_lengths=pads
    )
    return FoldData(
        split=split, label_names=label_names, ids=ids, dims=dims, targets_dims=targets_dims, augment=augment,
        soft=soft, n_voted=n_voted, sampler=sampler, clip_lengths=clip_lengths, max_samples=max_samples, select_idx=select_idx,
        train_loader=train_loader,
        valid_loader=eval_loader(data, select_idx, ids, **loader_args),
        test_loader=eval_loader(data, split.test, ids, **loader_args),
    )


def _setup_model(cfg: RecipeConfig, accelerator: Accelerator, fd: FoldData, fold: Fold) -> tuple[torch.nn.Module, list[bool] | None]:
    """The fold's model (seeded), wrapped in the frozen-output cache when the recipe asks for it and it can work.

    Returns the model and, with the cache, which training clips may be cached (``None`` without it).
    """
    tc = cfg.train
    weights = class_weights(fd.ids[fd.split.train], len(fd.label_names)) if cfg.model.class_weights == "balanced" else None
    model = build_model_of_kind(cfg.model, id2label=dict(enumerate(fd.label_names)), dims=fd.dims, class_weights=weights, seed=tc.seed + fold.index)
    # Evaluation and prediction cut long clips into windows of the training crop (hf_ser.evaluation.inference).
    setattr(model.config, WINDOW_CONFIG_KEY, cfg.data.max_duration_s)
    if tc.compile:
        # Attention masks from shapes only (as for ONNX): no "is anything padded?" branch, so dynamo traces one
        # graph per padded length with no host read and no graph break (the step passes no host lengths here).
        model._static_masks = True
    # Frozen-output cache: run the frozen lower part once per clip, then only the trainable part (epochs 2+).
    if tc.frozen_cache_mb and fd.augment is None and getattr(model, "frozen_output_cacheable", lambda: "n/a")() is None:
        dtype = "bfloat16" if accelerator.mixed_precision == "bf16" else "float16"
        where = accelerator.device if tc.frozen_cache_device == "device" else "cpu"
        cache = FrozenOutputCache(
            budget_bytes=int(tc.frozen_cache_mb * 2**20), dtype=dtype, device=where, pin=tc.frozen_cache_device == "pinned"
        )
        model = FrozenCacheModel(model, cache)
        return model, cacheable_clips(fd.clip_lengths, max_samples=fd.max_samples, augmented=False)
    return model, None


def _setup_optim(cfg: RecipeConfig, accelerator: Accelerator, model: torch.nn.Module, fd: FoldData):
    """Optimizer, learning-rate schedule and the stop rule, all sized from the same steps per epoch."""
    tc = cfg.train
    batches_per_epoch = len(fd.sampler.batches(0)) // accelerator.num_processes
    steps_per_epoch = max(1, math.ceil(batches_per_epoch / tc.grad_accum_steps))
    total_steps = tc.max_steps or steps_per_epoch * tc.epochs
    optimizer = build_optimizer(model, lr=tc.lr, head_lr=tc.head_lr, weight_decay=tc.weight_decay)
    scheduler = build_scheduler(optimizer, name=tc.scheduler, total_steps=total_steps, warmup_ratio=tc.warmup_ratio)
    # A regression-only model has no class metrics to select on: select on the mean CCC.
    select_metric = "ccc" if cfg.model.task == "regression" and tc.select_metric in ("ua", "wa", "macro_f1") else tc.select_metric
    stopping = Stopping(
        total_steps=total_steps,
        max_epochs=tc.epochs if tc.max_steps is None else None,
        patience=tc.early_stopping_patience,
        select_metric=select_metric,
    )
    return optimizer, scheduler, stopping


# ---------------------------------------------------------------------------------------------- fold evaluation
def _validated_at(state: TrainerState) -> bool:
    """Was the model of the current step validated?"""
    return any(h["step"] == state.step and "valid_loss" in h for h in state.history)


def _evaluate(
    cfg: RecipeConfig, accelerator: Accelerator, model, fd: FoldData, data: PreparedData, targets, valid_loader, test_loader,
    *, valid_out: EvalOutput | None = None,
) -> tuple[dict, float]:
    """The best model on validation and test (per corpus) and on every cross-corpus target.

    ``valid_out``: the best model's validation predictions when model selection already made them (the
    validation split is then not predicted again). Returns the results and the wall time of predicting the test split.
    """
    results, test_s = {}, 0.0
    corpora_of = np.array(data.column("corpus"))
    # Annotator vote distributions over the model's classes: distribution scores next to the class metrics.
    has_votes = fd.label_names and "n_raters" in data.dataset.column_names and any(data.column("n_raters"))
    vote_dist = vote_matrix(data.column("votes"), fd.label_names)[0] if has_votes else None
    for split_name, loader, idx in (("valid", valid_loader, fd.select_idx), ("test", test_loader, fd.split.test)):
        t0 = time.perf_counter()
        out = valid_out if split_name == "valid" and valid_out is not None else predict(accelerator, model, loader)
        if split_name == "test":
            test_s = time.perf_counter() - t0
        for corpus in sorted(set(corpora_of[idx])):
            sel = corpora_of[idx][out.indices] == corpus if len(idx) else np.zeros(0, dtype=bool)
            votes = vote_dist[np.asarray(idx)[out.indices][sel]] if vote_dist is not None else None
            results[f"{split_name}/{corpus}"] = score(subset(out, sel), fd.label_names, dims=fd.dims, votes=votes)
            if split_name == "test" and cfg.data.balanced_test and fd.label_names:
                keep = balanced_indices(out.labels[sel], seed=cfg.train.seed)  # the challenge's class-balanced test
                results[f"test_balanced/{corpus}"] = score(
                    subset(subset(out, sel), np.isin(np.arange(int(sel.sum())), keep)), fd.label_names
                )
    for name, target in targets.items() if cfg.model.task != "regression" else ():
        results.update(evaluate_target(
            accelerator, model, target, name, fd.label_names, window=fd.max_samples, batch_size=cfg.train.batch_size, seed=cfg.train.seed,
        ))
    return results, test_s


def _protocol_record(cfg: RecipeConfig, fold: Fold, fd: FoldData, recipe_changes: dict) -> ProtocolRecord:
    tc, split = cfg.train, fd.split
    return ProtocolRecord(
        corpora=[s.name for s in cfg.data.corpora],
        protocol=cfg.data.protocol,
        protocol_source=PROTOCOLS[cfg.data.protocol].source,
        fold=fold.index,
        speaker_independent=split.speaker_independent,
        label_set=cfg.data.label_set,
        labels=fd.label_names,
        task=cfg.model.task,
        dims=list(fd.dims),
        targets=cfg.model.targets if fd.label_names else None,
        targets_with_votes=fd.n_voted if fd.soft is not None else None,
        loss=cfg.model.loss if fd.label_names else None,
        focal_gamma=cfg.model.focal_gamma if fd.label_names and cfg.model.loss == "focal" else None,
        class_weights=cfg.model.class_weights,
        test_speakers=list(split.test_speakers),
        valid_speakers=list(split.valid_speakers),
        train_speakers=list(split.train_speakers),
        counts={"train": len(split.train), "valid": len(split.valid), "test": len(split.test)},
        real_frame_fraction=round(fd.sampler.real_frame_fraction(0), 4),
        model_selection=(
            "none: the final model (data.selection_split: none)"
            if not fd.select_idx
            else f"{tc.select_metric} on the validation speakers"
            if cfg.data.selection_split == "valid"
            else f"{tc.select_metric} on the TEST fold (optimistic; replicates the published protocol)"
        ),
        recipe_changes=recipe_changes,
    )


# ---------------------------------------------------------------------------------------------- helpers
def _inner(model):
    """The saved model inside a frozen-output cache wrapper (or the model itself)."""
    return model.model if isinstance(model, FrozenCacheModel) else model


def _build_augment(cfg: RecipeConfig, train_rows, data: PreparedData, split, alignments, seed: int):
    if not cfg.data.augment:
        return None
    from hf_ser.augment import assert_no_leakage, build_augmentation

    # Donors come only from this fold's training rows: validation and test audio is never touched.
    aug = build_augmentation(
        cfg.data.augment, train_rows=train_rows, get_wave=lambda i: data.wave(split.train[i]), alignments=alignments, seed=seed
    )
    for other in (split.valid, split.test):
        assert_no_leakage(train_rows, data.dataset.select(other))
    return aug


def _select_folds(spec: str, folds: list[Fold]) -> list[Fold]:
    """The folds ``spec`` names, by the protocol's own fold numbers (``Fold.index``), not list positions.

    On a partial corpus ``make_folds`` omits folds without test data, so positions and protocol numbers differ;
    every directory, table and warning uses the protocol's number.
    """
    chosen = fold_numbers(spec)
    if chosen is None:
        return list(folds)
    by_index = {fold.index: fold for fold in folds}
    bad = [k for k in chosen if k not in by_index]
    if bad:
        raise RecipeError(
            f"folds={spec}: fold(s) {bad} are not in this run; the protocol's folds present in the data are "
            f"{sorted(by_index)} (set folds= to some of them, or folds=all)"
        )
    return [by_index[k] for k in chosen]


def _warn_single_process_cpu_launch() -> None:
    # `accelerate launch --cpu --num_processes N` only starts N processes through mpirun (with a hostfile);
    # without it accelerate starts one process and sets MASTER_ADDR, which is how we recognise the case.
    if os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true") and "MASTER_ADDR" in os.environ and "WORLD_SIZE" not in os.environ:
        logger.warning(
            "accelerate's --cpu launcher started ONE process (several CPU processes need mpirun). For N-process "
            "CPU DDP run: accelerate launch --config_file recipes/accelerate/cpu_2proc.yaml hf_ser/train.py RECIPE"
        )


def _precision(name: str) -> str:
    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def _refuse_target_as_training(cfg: RecipeConfig) -> None:
    # Validation speakers come from the training corpora, so a target among them would steer model selection.
    check_not_validation({s.name for s in cfg.data.eval_corpora}, {s.name for s in cfg.data.corpora})


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = json.dumps(v) if isinstance(v, (list, tuple)) else v
    return out


if __name__ == "__main__":
    # As a script (accelerate launch hf_ser/train.py, python -m hf_ser.train) the command line is the
    # `train` command's: the same arguments, user errors as one line (exit 2), --debug for the traceback.
    from hf_ser.commands.train import main as command_main

    sys.exit(command_main())
