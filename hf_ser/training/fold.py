"""One fold of a run as named steps (in the spirit of torchtune's recipe class).

``FoldRecipe(...).run()`` calls, in order: ``setup_data`` (split, labels, augmentation, loaders), ``setup_model``,
``setup_optim`` (optimizer, schedule, stop rule, ``accelerator.prepare``, resume), ``train`` (the visible
Accelerate loop), ``select`` (make sure the model to keep is scored and saved), ``evaluate`` (the selected model on
validation, test and every cross-corpus target) and ``report`` (``metrics.json``, plots, the table). Features
that act around the step are ``Callback``s called at the moments ``hf_ser.training.callbacks`` lists; the ones a
recipe turns on are in ``RECIPE_CALLBACKS``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from hf_ser.audio import SAMPLE_RATE
from hf_ser.config import RecipeConfig
from hf_ser.corpora import vote_matrix
from hf_ser.data.frozen_cache import FrozenCacheModel, FrozenOutputCache, cacheable_clips
from hf_ser.data.loaders import class_weights
from hf_ser.data.prepare import PreparedData
from hf_ser.evaluation.inference import WINDOW_CONFIG_KEY
from hf_ser.metrics import balanced_indices
from hf_ser.metrics.calibration import expected_calibration_error, fit_temperature, probabilities
from hf_ser.metrics.registry import CCC, CLASS_METRICS, SELECT_METRICS
from hf_ser.modality import model_modality
from hf_ser.model_kinds import build_model_of_kind
from hf_ser.models import build_feature_extractor, parameter_counts
from hf_ser.reporting import fold_table, metric_line, save_curves, save_split_plots
from hf_ser.run_dir import CURVES_FILE, MODEL_DIR, FoldMetrics, ProtocolRecord, write_metrics, write_timing
from hf_ser.splits import PROTOCOLS, Fold, speaker_sharing
from hf_ser.training.callbacks import Callback, CallbackList
from hf_ser.training.checkpoints import load_latest_checkpoint, save_checkpoint
from hf_ser.training.ema import ExponentialMovingAverage
from hf_ser.training.fold_data import FoldData, build_fold_data, transcript_ids
from hf_ser.training.optim import build_optimizer, build_scheduler
from hf_ser.training.predictions import EvalOutput, evaluate_target, predict_split, score, subset
from hf_ser.training.saving import record_calibration, record_transcripts, save_model
from hf_ser.training.state import Stopping, TrainerState
from hf_ser.training.timing import LoopTiming

logger = logging.getLogger("hf_ser.train")

# Fewer validation clips than this give a noisy temperature (one scalar, but fitted on a handful of logits): warn.
FEW_CALIBRATION_CLIPS = 100
# What a training step passes to the model from a collated batch.
STEP_INPUTS = ("input_values", "attention_mask", "labels", "dims", "input_lengths", "text_input_ids", "text_attention_mask")

# The callbacks a recipe turns on: each maker returns its callback for the recipe, or None when it is off.
RECIPE_CALLBACKS: tuple[Callable[[RecipeConfig], Callback | None], ...] = (ExponentialMovingAverage.from_recipe,)


class FoldRecipe:
    """Train, select on validation, test and save one fold; ``run()`` returns its ``metrics.json`` content.

    Args:
        cfg: the resolved recipe.
        accelerator: the run's ``Accelerator``.
        data: the run's training corpora, decoded; ``targets``: the cross-corpus targets, by name.
        fold: the protocol's fold; ``fold_dir``: where it writes (``run_dir.fold_dir``).
        speaker_independent: the protocol's declaration (checked when the split is drawn).
        alignments: word boundaries for ``word_swap`` (``None`` without it).
        recipe_changes: the keys a resumed run changed (allowed by ``run_dir.RESUMABLE_KEYS``), for the report.
        callbacks: the caller's own callbacks, called after the recipe's (``RECIPE_CALLBACKS``).
    """

    def __init__(
        self, cfg: RecipeConfig, accelerator: Accelerator, data: PreparedData, targets: dict[str, PreparedData],
        fold: Fold, fold_dir: Path, *, speaker_independent: bool, alignments=None, recipe_changes: dict | None = None,
        callbacks: Sequence[Callback] = (),
    ):
        self.cfg, self.accelerator, self.data, self.targets = cfg, accelerator, data, targets
        self.fold, self.fold_dir, self.speaker_independent, self.alignments = fold, fold_dir, speaker_independent, alignments
        self.recipe_changes = recipe_changes or {}
        recipe_made = [cb for make in RECIPE_CALLBACKS if (cb := make(cfg)) is not None]
        self.callbacks = CallbackList([*recipe_made, *callbacks])
        self.state = TrainerState()
        # The selected model's validation predictions, by its step: ``evaluate`` reuses them rather than predicting
        # the validation split again with the same weights reloaded from the model folder.
        self.best_outputs: dict[int, EvalOutput] = {}

    def run(self) -> dict:
        """Every step of the fold, in order."""
        set_seed(self.cfg.train.seed + self.fold.index)
        self.setup_data()
        self.setup_model()
        self.setup_optim()
        self.train()
        self.select()
        return self.report(self.evaluate())

    # ------------------------------------------------------------------------------------------ setup
    def setup_data(self) -> None:
        """The split (a resumed fold reads its own back from the manifests), label ids, augmentation, loaders."""
        self.fd: FoldData = build_fold_data(
            self.cfg, self.accelerator, self.data, self.fold, self.fold_dir, self.speaker_independent, self.alignments
        )

    def setup_model(self) -> None:
        """The fold's model (seeded), wrapped in the frozen-output cache when the recipe asks for it and it can work.

        Sets ``model``, ``cacheable`` (which training clips may be cached; ``None`` without the cache),
        ``step_inputs`` (what the step passes to the model) and ``parameters`` (counted before training: the
        selected model is reloaded merged).
        """
        cfg, tc, fd = self.cfg, self.cfg.train, self.fd
        weights = class_weights(fd.ids[fd.split.train], len(fd.label_names)) if cfg.model.class_weights == "balanced" else None
        model = build_model_of_kind(
            cfg.model, id2label=dict(enumerate(fd.label_names)), dims=fd.dims, class_weights=weights, seed=tc.seed + self.fold.index
        )
        # Evaluation and prediction cut long clips into windows of the training crop (hf_ser.evaluation.inference).
        setattr(model.config, WINDOW_CONFIG_KEY, cfg.data.max_duration_s)
        if tc.compile:
            # Attention masks from shapes only (as for ONNX): no "is anything padded?" branch, so dynamo traces one
            # graph per padded length with no host read and no graph break (the step passes no host lengths here).
            model._static_masks = True
        self.parameters = parameter_counts(model)
        logger.info(
            "trainable parameters: %d of %d (%.4f%%)",
            self.parameters["trainable"], self.parameters["total"], 100 * self.parameters["trainable_fraction"],
        )
        self.callbacks.on_model_built(model)
        self.feature_extractor = build_feature_extractor()
        self.cacheable = None
        # Frozen-output cache: run the frozen lower part once per clip, then only the trainable part (epochs 2+).
        if tc.frozen_cache_mb and fd.augment is None and getattr(model, "frozen_output_cacheable", lambda: "n/a")() is None:
            dtype = "bfloat16" if self.accelerator.mixed_precision == "bf16" else "float16"
            where = self.accelerator.device if tc.frozen_cache_device == "device" else "cpu"
            cache = FrozenOutputCache(
                budget_bytes=int(tc.frozen_cache_mb * 2**20), dtype=dtype, device=where, pin=tc.frozen_cache_device == "pinned"
            )
            model = FrozenCacheModel(model, cache)
            self.cacheable = cacheable_clips(fd.clip_lengths, max_samples=fd.max_samples, augmented=False)
        self.model = model
        self.step_inputs = step_inputs(compiled=tc.compile, cacheable=self.cacheable)

    def setup_optim(self) -> None:
        """Optimizer, learning-rate schedule and the stop rule (all sized from the same steps per epoch), then
        ``accelerator.prepare`` and, with ``--resume``, the newest intact checkpoint."""
        cfg, tc, accelerator = self.cfg, self.cfg.train, self.accelerator
        batches_per_epoch = len(self.fd.sampler.batches(0)) // accelerator.num_processes
        steps_per_epoch = max(1, math.ceil(batches_per_epoch / tc.grad_accum_steps))
        total_steps = tc.max_steps or steps_per_epoch * tc.epochs
        optimizer = build_optimizer(self.model, lr=tc.lr, head_lr=tc.head_lr, weight_decay=tc.weight_decay)
        scheduler = build_scheduler(optimizer, name=tc.scheduler, total_steps=total_steps, warmup_ratio=tc.warmup_ratio)
        # A regression-only model has no class metrics to select on: select on the mean CCC.
        select_metric = CCC if cfg.model.task == "regression" and tc.select_metric in CLASS_METRICS else tc.select_metric
        self.stopping = Stopping(
            total_steps=total_steps,
            max_epochs=tc.epochs if tc.max_steps is None else None,
            patience=tc.early_stopping_patience,
            select_metric=select_metric,
        )
        self.model, self.optimizer, self.train_loader, self.valid_loader, self.test_loader, self.scheduler = accelerator.prepare(
            self.model, optimizer, self.fd.train_loader, self.fd.valid_loader, self.fd.test_loader, scheduler
        )
        # The module whose weights are trained (no DDP / compile / cache wrapper): what callbacks and saving see.
        self.trained = _inner(accelerator.unwrap_model(self.model))
        restored = load_latest_checkpoint(accelerator, self.fold_dir, extra=self.callbacks.on_checkpoint_load) if cfg.resume else None
        if restored is not None:
            self.state, ckpt = restored
            self.state.done = self.stopping.finished(self.state)  # epochs / max_steps may have been raised for the resumed run
            logger.info("resumed %s at epoch %d, step %d", ckpt, self.state.epoch, self.state.step)

    # ------------------------------------------------------------------------------------------ training
    def train(self) -> None:
        """The training loop: epochs of accumulated steps until ``Stopping`` says so, validating and checkpointing
        at the recipe's intervals (or at epoch ends)."""
        tc, accelerator, state, stopping = self.cfg.train, self.accelerator, self.state, self.stopping
        model, optimizer, scheduler, train_loader = self.model, self.optimizer, self.scheduler, self.train_loader
        progress = tqdm(total=stopping.total_steps, initial=state.step, disable=not accelerator.is_main_process, desc=f"fold {self.fold.index}", unit="step")
        self.timing = timing = LoopTiming(accelerator.device)
        self.callbacks.on_train_begin(self.trained, state)
        while stopping.keep_going(state):
            train_loader.set_epoch(state.epoch)
            self.fd.sampler.resume_at(state.epoch, start_batch=state.batches_done)
            model.train()
            timing.start_epoch()
            for batch in timing.batches(train_loader):
                with accelerator.accumulate(model):
                    # No host-device sync on a step that does not log: clip lengths and keys come as host ints from
                    # the collator (input_lengths, host_index), never read back from the device (tests/test_host_syncs.py).
                    loss = model(**self.step_inputs(batch)).loss
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
                self.callbacks.on_step_end(self.trained, state)
                progress.update(1)
                if state.step % tc.log_every_n_steps == 0 or state.step == 1:
                    self._log_training(progress)
                if tc.eval_every_n_steps and state.step % tc.eval_every_n_steps == 0:
                    timing.pause()
                    self.validate()
                    model.train()
                    timing.resume()
                if tc.checkpoint_every_n_steps and state.step % tc.checkpoint_every_n_steps == 0:
                    timing.pause()
                    self.save_checkpoint()
                    timing.resume()
                if stopping.stop_after_step(state):
                    break
            timing.end_epoch()
            if not stopping.stop_after_step(state):  # the epoch ran to its end
                state.epoch += 1
                state.batches_done = 0
                if not tc.eval_every_n_steps:
                    self.validate()
            state.done = stopping.finished(state)
            self.save_checkpoint()
        progress.close()

    def _log_training(self, progress) -> None:
        mean_loss, rate = self.timing.read(self.accelerator.num_processes)  # the only host sync of a training step
        step, fold = self.state.step, self.fold.index
        progress.set_postfix(loss=f"{mean_loss:.3f}", audio_s_per_s=f"{rate:.1f}")
        self.accelerator.log(
            {f"fold{fold}/train_loss": mean_loss, f"fold{fold}/lr": self.scheduler.get_last_lr()[0], f"fold{fold}/audio_s_per_s": rate},
            step=step,
        )
        self.state.history.append({"step": step, "epoch": self.state.epoch, "train_loss": mean_loss})

    def save_checkpoint(self) -> None:
        """A resumable checkpoint of this step, with what the callbacks add."""
        save_checkpoint(
            self.accelerator, self.fold_dir, self.state, keep=self.cfg.train.keep_checkpoints,
            extra=lambda folder: self.callbacks.on_checkpoint_save(folder, self.accelerator),
        )

    # ------------------------------------------------------------------------------------------ selection
    def validate(self) -> None:
        """Score the selection rows and save the model whenever the stop rule calls it the best so far (selection
        never looks at test unless the recipe replicates a paper that did). Without selection rows
        (``data.selection_split: none``) nothing is scored."""
        if not self.fd.select_idx:
            return
        accelerator, state = self.accelerator, self.state
        self.callbacks.on_validation_begin(self.trained)
        out = predict_split(accelerator, self.model, self.valid_loader)
        metrics = score(out, self.fd.label_names, dims=self.fd.dims)
        logged = {f"valid_{m}": metrics[m] for m in SELECT_METRICS if m in metrics}
        state.history.append({"step": state.step, "epoch": state.epoch, **logged})
        accelerator.log({f"fold{self.fold.index}/{k}": v for k, v in logged.items()}, step=state.step)
        if accelerator.is_main_process:
            corpora = [s.name for s in self.cfg.data.corpora]
            logger.info("fold %d step %d: %s", self.fold.index, state.step, metric_line(metrics, f"valid ({corpora})"))
        if self.stopping.improved(state, metrics):
            self.best_outputs = {state.step: out}
            self.save_model()
        self.callbacks.on_validation_end(self.trained, state, metrics)

    def select(self) -> None:
        """The model to keep: the final weights are scored too when training stopped between validations; without
        selection rows the final model is the model (saved here)."""
        if self.state.validated_step != self.state.step:
            self.validate()
        if not self.fd.select_idx:
            self.state.best_step = self.state.step
            self.callbacks.on_validation_begin(self.trained)
            self.save_model()
            self.callbacks.on_validation_end(self.trained, self.state, None)

    def save_model(self) -> None:
        """``save_pretrained`` the trained model (and feature extractor) into the fold's model folder, with the
        recogniser of its ASR transcripts where the recipe has one."""
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            save_model(self.trained, self.feature_extractor, self.fold_dir / MODEL_DIR, tokenizer=self.fd.tokenizer)
            if self.cfg.data.transcripts is not None:  # inference runs the same recogniser (asr="auto")
                record_transcripts(self.fold_dir / MODEL_DIR, self.cfg.data.transcripts.asr)
        self.accelerator.wait_for_everyone()

    # ------------------------------------------------------------------------------------------ evaluation
    def evaluate(self) -> dict:
        """The selected model (reloaded from its folder) on validation and test, per corpus, and on every
        cross-corpus target. Sets ``test_eval_s`` (the wall time of predicting the test split)."""
        cfg, accelerator, fd, data = self.cfg, self.accelerator, self.fd, self.data
        accelerator.wait_for_everyone()
        # The selected model's validation predictions were made when it was selected (none after a resume that
        # selected it before: then the split is predicted again).
        valid_out = self.best_outputs.get(self.state.best_step)
        model = accelerator.prepare(type(self.trained).from_pretrained(self.fold_dir / MODEL_DIR))
        if fd.select_idx and valid_out is None:
            valid_out = predict_split(accelerator, model, self.valid_loader)
        temperature = self.calibrate(valid_out)
        results, self.test_eval_s = {}, 0.0
        corpora_of = np.array(data.column("corpus"))
        # Annotator vote distributions over the model's classes: distribution scores next to the class metrics.
        has_votes = fd.label_names and "n_raters" in data.dataset.column_names and any(data.column("n_raters"))
        vote_dist = vote_matrix(data.column("votes"), fd.label_names)[0] if has_votes else None
        # A speech + text model is also scored from speech alone on the test split (what modality dropout buys).
        speech_out = predict_split(accelerator, model, accelerator.prepare(fd.test_speech_loader)) if fd.test_speech_loader else None
        for split_name, loader, idx in (("valid", self.valid_loader, fd.select_idx), ("test", self.test_loader, fd.split.test)):
            t0 = time.perf_counter()
            out = valid_out if split_name == "valid" and valid_out is not None else predict_split(accelerator, model, loader)
            if split_name == "test":
                self.test_eval_s = time.perf_counter() - t0
            for corpus in sorted(set(corpora_of[idx])):
                sel = corpora_of[idx][out.indices] == corpus if len(idx) else np.zeros(0, dtype=bool)
                votes = vote_dist[np.asarray(idx)[out.indices][sel]] if vote_dist is not None else None
                results[f"{split_name}/{corpus}"] = score(
                    subset(out, sel), fd.label_names, dims=fd.dims, votes=votes, temperature=temperature
                )
                if split_name == "test" and speech_out is not None:  # the same test clips, transcripts withheld
                    alone = corpora_of[idx][speech_out.indices] == corpus
                    results[f"test_speech_only/{corpus}"] = score(
                        subset(speech_out, alone), fd.label_names, dims=fd.dims, temperature=temperature
                    )
                if split_name == "test" and cfg.data.balanced_test and fd.label_names:
                    keep = balanced_indices(out.labels[sel], seed=cfg.train.seed)  # the challenge's class-balanced test
                    results[f"test_balanced/{corpus}"] = score(
                        subset(subset(out, sel), np.isin(np.arange(int(sel.sum())), keep)), fd.label_names,
                        temperature=temperature,
                    )
        for name, target in self.targets.items() if cfg.model.task != "regression" else ():
            results.update(evaluate_target(
                accelerator, model, target, name, fd.label_names, window=fd.max_samples, batch_size=cfg.train.batch_size,
                seed=cfg.train.seed, temperature=temperature,
                text_ids=transcript_ids(target, fd.tokenizer, cfg.model.text_max_tokens) if fd.tokenizer is not None else None,
            ))
        return results

    def calibrate(self, valid_out: EvalOutput | None) -> float:
        """Temperature scaling (``train.temperature_scaling``): one temperature fitted on the selected model's
        validation predictions, stored in the saved model's ``config.json``; 1.0 (raw logits) when it is off, for
        regression, or without labelled validation clips."""
        if not (self.cfg.train.temperature_scaling and self.fd.label_names and valid_out is not None):
            return 1.0
        keep = valid_out.labels >= 0
        logits, refs = valid_out.logits[keep], valid_out.labels[keep]
        if not len(refs) or logits.shape[1] != len(self.fd.label_names):
            return 1.0
        temperature = fit_temperature(logits, refs)
        calibration = {
            "temperature": temperature, "fitted_on": "validation", "clips": int(len(refs)),
            "valid_ece_raw": expected_calibration_error(probabilities(logits), refs),
            "valid_ece": expected_calibration_error(probabilities(logits, temperature), refs),
        }
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            record_calibration(self.fold_dir / MODEL_DIR, calibration)
            logger.info("fold %d: temperature %.3f fitted on %d validation clips (ECE %.3f -> %.3f)", self.fold.index,
                        temperature, len(refs), calibration["valid_ece_raw"], calibration["valid_ece"])
            if len(refs) < FEW_CALIBRATION_CLIPS:
                logger.warning("fold %d: the temperature was fitted on only %d validation clips, so it is noisy; "
                               "predict --no-calibration gives the raw probabilities", self.fold.index, len(refs))
        self.accelerator.wait_for_everyone()
        return temperature

    # ------------------------------------------------------------------------------------------ report
    def report(self, results: dict) -> dict:
        """Write ``metrics.json`` (and the fold's seconds in ``timing.json``, kept as ``self.times``), the plots
        and curves, print the table; returns the metrics."""
        accelerator, fd, state = self.accelerator, self.fd, self.state
        cache = self.model_cache()
        record = FoldMetrics(
            protocol=self.protocol_record(),
            best_step=state.best_step,
            final_step=state.step,
            results=results,
            parameters=self.parameters,
            training={
                **self.timing.report(accelerator.num_processes),
                "test_audio_s": sum(self.data.num_samples(i) for i in fd.split.test) / SAMPLE_RATE,
            },
            # This process's batches (each process augments its own), resumes included.
            augmentation={**fd.augment.report(), "applied": dict(state.augmented)} if fd.augment is not None else None,
            frozen_cache=cache.summary() if cache is not None else None,
        )
        metrics = record.to_dict()
        self.times = {"training": self.timing.times(), "evaluation": {"test_eval_s": round(self.test_eval_s, 4)}}
        if accelerator.is_main_process:
            write_metrics(self.fold_dir, record)
            write_timing(self.fold_dir, self.times)
            save_split_plots(self.fold_dir, results)
            save_curves(self.fold_dir / CURVES_FILE, state.history)
            accelerator.print(fold_table(metrics, self.fold_dir))
        accelerator.wait_for_everyone()
        self.callbacks.on_fold_end(metrics)
        return metrics

    def model_cache(self) -> FrozenOutputCache | None:
        """The frozen-output cache the fold trained with, or ``None``."""
        wrapper = self.accelerator.unwrap_model(self.model)
        return wrapper.cache if isinstance(wrapper, FrozenCacheModel) else None

    def protocol_record(self) -> ProtocolRecord:
        """What ``metrics.json`` says about how the fold was split, labelled, trained and selected."""
        cfg, tc, fd, split = self.cfg, self.cfg.train, self.fd, self.fd.split
        return ProtocolRecord(
            corpora=[s.name for s in cfg.data.corpora],
            protocol=cfg.data.protocol,
            protocol_source=PROTOCOLS[cfg.data.protocol].source,
            fold=self.fold.index,
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
            modality=model_modality(cfg.model),
            model_selection=(
                "none: the final model (data.selection_split: none)"
                if not fd.select_idx
                else f"{tc.select_metric} on the validation speakers"
                if cfg.data.selection_split == "valid"
                else f"{tc.select_metric} on the TEST fold (optimistic; replicates the published protocol)"
            ),
            recipe_changes=self.recipe_changes,
            speakers=speaker_sharing(split),
        )


def step_inputs(*, compiled: bool, cacheable: list[bool] | None) -> Callable[[dict], dict]:
    """What a training step passes to the model from a collated batch, decided once per fold.

    ``compiled``: no host ints in the arguments (dynamo would recompile for every batch). ``cacheable``: the
    frozen-output cache's keys and which clips it may keep (``None`` without the cache), and the transcripts'
    host lengths (``text_lengths``, speech + text models) for its encoded-transcript entries.
    """
    names = tuple(n for n in STEP_INPUTS if not (compiled and n == "input_lengths"))
    if cacheable is None:
        return lambda batch: {k: v for k, v in batch.items() if k in names}
    cache_names = (*names, "text_lengths")

    def with_cache_keys(batch: dict) -> dict:
        keys = batch["host_index"]
        return {**{k: v for k, v in batch.items() if k in cache_names}, "cache_keys": keys, "cacheable": [cacheable[i] for i in keys]}

    return with_cache_keys


def _inner(model: torch.nn.Module) -> torch.nn.Module:
    """The saved model inside a frozen-output cache wrapper (or the model itself)."""
    return model.model if isinstance(model, FrozenCacheModel) else model
