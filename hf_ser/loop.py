"""Pieces of the training loop that ``train.py`` calls: optimizer, schedule, evaluation, checkpoints.

The loop itself stays visible in ``hf_ser/train.py``; this module holds what it delegates to.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from transformers import get_scheduler

from hf_ser.audio import SAMPLE_RATE
from hf_ser.evaluation.inference import clip_means, eval_loader, forward
from hf_ser.evaluation.scoring import score_logits, target_figures
from hf_ser.fsutil import TMP_PREFIX, atomic_dir, publish_dir
from hf_ser.metrics import distribution_scores, regression_metrics

logger = logging.getLogger(__name__)

STATE_FILE = "trainer_state.json"


@dataclass
class TrainerState:
    """Everything besides model/optimizer/scheduler/RNG that a resumed run needs (saved as JSON)."""

    epoch: int = 0
    step: int = 0  # optimizer steps taken
    batches_done: int = 0  # global batches of ``epoch`` consumed (all processes together)
    best_metric: float | None = None
    best_step: int = -1
    bad_evals: int = 0  # validations since the last improvement (early stopping)
    history: list[dict] = field(default_factory=list)
    done: bool = False
    augmented: dict[str, int] = field(default_factory=dict)  # augmentations in the batches trained on so far

    def count_augmented(self, per_clip: list[list[str]]) -> None:
        """Add one batch's augmentations (the collated ``augmented`` field) to the run's counts."""
        for names in per_clip:
            for name in names:
                self.augmented[name] = self.augmented.get(name, 0) + 1


@dataclass(frozen=True)
class Stopping:
    """When a fold's training stops, and which validation is the best so far: the loop's only stop rule.

    ``max_epochs`` is ``None`` when ``train.max_steps`` bounds the run instead. The counters it reads and
    updates (``step``, ``epoch``, ``best_metric``, ``best_step``, ``bad_evals``, ``done``) live in the
    ``TrainerState`` so that a resumed run continues with them.
    """

    total_steps: int
    max_epochs: int | None
    patience: int | None
    select_metric: str  # a key of ``score``'s output; ``loss`` is minimised, everything else maximised

    def keep_going(self, state: TrainerState) -> bool:
        """Start (or continue) an epoch?"""
        return not state.done and (self.max_epochs is None or state.epoch < self.max_epochs)

    def stop_after_step(self, state: TrainerState) -> bool:
        """Leave the epoch after this optimizer step (step budget spent, or no patience left)?"""
        return state.step >= self.total_steps or self.out_of_patience(state)

    def out_of_patience(self, state: TrainerState) -> bool:
        return bool(self.patience) and state.bad_evals >= self.patience

    def finished(self, state: TrainerState) -> bool:
        """Is the fold done (recorded in checkpoints, so a resumed finished run trains no further)?"""
        return self.stop_after_step(state) or (self.max_epochs is not None and state.epoch >= self.max_epochs)

    def improved(self, state: TrainerState, metrics: dict) -> bool:
        """Record a validation; True when it is the best so far (the caller saves that model)."""
        value = metrics[self.select_metric] if self.select_metric != "loss" else -metrics["loss"]
        if state.best_metric is None or value > state.best_metric:
            state.best_metric, state.best_step, state.bad_evals = value, state.step, 0
            return True
        state.bad_evals += 1
        return False


class LoopTiming:
    """What the training loop measures about itself, accumulated on the device and read only at log steps.

    Loss and real audio samples are summed as device tensors (``read`` is the only host sync of a step, and
    runs every ``log_every_n_steps``). For ``metrics.json`` (and ``hf-ser bench``, which reads it) it also
    keeps the wall time and process CPU time of every epoch (validation and checkpoints inside an epoch
    excluded; a final partial epoch counts), the time spent waiting for batches, and real versus padded samples. A resumed run counts
    its resumed part only.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self._loss_window = torch.zeros((), device=device)
        self._loss_total = torch.zeros((), device=device)
        self._window_batches = 0
        self._batches = 0
        self._real = torch.zeros((), dtype=torch.int64, device=device)
        self._real_at_start = 0
        self.padded_samples = 0
        self.epoch_s: list[float] = []
        self.epoch_cpu_s: list[float] = []  # this process's CPU time (all threads) over the same spans
        self.data_wait_s = 0.0
        self._t0 = time.perf_counter()
        self._epoch_t0 = self._t0
        self._paused_at: float | None = None
        self._paused_s = 0.0
        self._epoch_cpu0 = time.process_time()
        self._paused_cpu_at = 0.0
        self._paused_cpu_s = 0.0

    def batches(self, loader):
        """Iterate ``loader``, timing how long each batch takes to arrive."""
        it = iter(loader)
        while True:
            t0 = time.perf_counter()
            batch = next(it, None)
            self.data_wait_s += time.perf_counter() - t0
            if batch is None:
                return
            yield batch

    def add_batch(self, loss: torch.Tensor, attention_mask: torch.Tensor) -> None:
        loss = loss.detach().float()
        self._loss_window += loss
        self._loss_total += loss
        self._window_batches += 1
        self._batches += 1
        self._real += attention_mask.sum()
        self.padded_samples += attention_mask.numel()

    def read(self, num_processes: int) -> tuple[float, float]:
        """Mean loss since the last read and audio-seconds per second since the start (all processes); syncs."""
        mean_loss = (self._loss_window / max(1, self._window_batches)).item()
        self._loss_window.zero_()
        self._window_batches = 0
        audio_s = self._real.item() / SAMPLE_RATE * num_processes
        return mean_loss, audio_s / max(time.perf_counter() - self._t0, 1e-9)

    def start_epoch(self) -> None:
        self._epoch_t0, self._paused_s = time.perf_counter(), 0.0
        self._epoch_cpu0, self._paused_cpu_s = time.process_time(), 0.0

    def pause(self) -> None:
        _synchronize(self.device)
        self._paused_at, self._paused_cpu_at = time.perf_counter(), time.process_time()

    def resume(self) -> None:
        self._paused_s += time.perf_counter() - self._paused_at
        self._paused_cpu_s += time.process_time() - self._paused_cpu_at
        self._paused_at = None

    def end_epoch(self) -> None:
        _synchronize(self.device)
        self.epoch_s.append(time.perf_counter() - self._epoch_t0 - self._paused_s)
        self.epoch_cpu_s.append(time.process_time() - self._epoch_cpu0 - self._paused_cpu_s)

    def report(self, num_processes: int) -> dict:
        """The ``training`` section of ``metrics.json`` (this process's batches scaled to all processes)."""
        real = int(self._real.item())
        return {
            "epoch_s": [round(t, 4) for t in self.epoch_s],
            "train_s": round(sum(self.epoch_s), 4),
            "train_cpu_s": round(sum(self.epoch_cpu_s), 4),
            "data_wait_s": round(self.data_wait_s, 4),
            "train_audio_s": real / SAMPLE_RATE * num_processes,
            "padded_audio_s": self.padded_samples / SAMPLE_RATE * num_processes,
            "train_loss": (self._loss_total / self._batches).item() if self._batches else None,
            "batches": self._batches,
            "num_processes": num_processes,
        }


def _synchronize(device: torch.device) -> None:
    # Wall-clock timers mean something only once the queued GPU work is done (once per epoch, not per step).
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build_optimizer(
    model: torch.nn.Module, *, lr: float, head_lr: float | None, weight_decay: float, fused: bool | None = None
) -> torch.optim.Optimizer:
    """AdamW with one learning rate for the backbone and another for everything after it (pooling, head).

    Biases and norm weights get no weight decay. ``fused``: the fused kernel (its step counters live on the
    parameters' device and are never read on the host); None: on CUDA only.
    """
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        is_backbone = name.startswith("backbone.") or ".backbone." in name
        no_decay = param.ndim < 2
        groups.setdefault((is_backbone, no_decay), []).append(param)
    param_groups = [
        {
            "params": params,
            "lr": lr if is_backbone else (head_lr if head_lr is not None else lr),
            "weight_decay": 0.0 if no_decay else weight_decay,
        }
        for (is_backbone, no_decay), params in sorted(groups.items())
    ]
    fused = torch.cuda.is_available() if fused is None else fused
    return torch.optim.AdamW(param_groups, lr=lr, fused=fused)


def build_scheduler(optimizer: torch.optim.Optimizer, *, name: str, total_steps: int, warmup_ratio: float):
    warmup = int(math.ceil(total_steps * warmup_ratio))
    kind = "constant_with_warmup" if name == "constant" else name
    return get_scheduler(kind, optimizer, num_warmup_steps=warmup, num_training_steps=max(total_steps, 1))


@dataclass
class EvalOutput:
    """Predictions over a split, in dataset order (duplicates from uneven sharding removed)."""

    indices: np.ndarray
    logits: np.ndarray  # (clips, num_labels)
    labels: np.ndarray  # (clips,) reference ids, -100 where the clip's label is not one of the model's
    loss: float
    dims_pred: np.ndarray | None = None  # (clips, n_dims) for regression / multitask models
    dims_ref: np.ndarray | None = None


def predict(accelerator: Accelerator, model: torch.nn.Module, loader) -> EvalOutput:
    """Run ``model`` over a prepared window loader (``hf_ser.evaluation.inference.eval_loader``) and gather
    every clip's logits (the mean over its windows) on all processes. No autograd (``torch.inference_mode``)."""
    model.eval()
    gathered: dict[str, list[np.ndarray]] = {k: [] for k in ("index", "window", "logits", "labels", "dims_pred", "dims_ref")}
    with torch.inference_mode():
        for batch in loader:
            out = forward(model, batch)
            parts = {"index": batch["index"], "window": batch["window"], "logits": out.logits.float(), "labels": batch["labels"]}
            if getattr(out, "dims", None) is not None and "dims" in batch:
                parts.update(dims_pred=out.dims.float(), dims_ref=batch["dims"])
            for name, value in accelerator.gather_for_metrics(parts).items():
                gathered[name].append(value.cpu().numpy())
    if not gathered["index"]:
        return EvalOutput(indices=np.zeros(0, dtype=np.int64), logits=np.zeros((0, 0)), labels=np.zeros(0, dtype=np.int64), loss=0.0)
    cat = {k: np.concatenate(v) if v else None for k, v in gathered.items()}
    index, window = cat["index"], cat["window"]
    clips, logits = clip_means(index, window, cat["logits"])
    labels = clip_means(index, window, cat["labels"])[1].astype(np.int64)  # one label per clip: the mean is it
    dims_pred = clip_means(index, window, cat["dims_pred"])[1] if cat["dims_pred"] is not None else None
    dims_ref = clip_means(index, window, cat["dims_ref"])[1] if cat["dims_ref"] is not None else None
    valid = labels >= 0
    loss = (
        torch.nn.functional.cross_entropy(torch.from_numpy(logits[valid]), torch.from_numpy(labels[valid])).item()
        if valid.any()
        else 0.0
    )
    return EvalOutput(indices=clips, logits=logits, labels=labels, loss=loss, dims_pred=dims_pred, dims_ref=dims_ref)


def score(
    output: EvalOutput, label_names: list[str], *, dims: tuple[str, ...] = (), votes: np.ndarray | None = None
) -> dict:
    """In-corpus metrics of ``output`` (every model class allowed), through ``hf_ser.evaluation.scoring``.

    Classification metrics (WA, UA, macro-F1, ...) are computed over clips with a label id; with ``dims``,
    CCC / Pearson / Spearman / MAE per dimension are added under ``dims`` and their mean as ``ccc``. With
    ``votes`` (``(clips, num_labels)`` annotator vote distributions in ``output`` order, all-zero rows = no
    votes), the distribution scores of ``hf_ser.metrics.distribution_scores`` over the voted clips are added
    under ``distribution``.
    """
    metrics: dict = {}
    if dims and output.dims_pred is not None:
        finite = np.isfinite(output.dims_ref).all(axis=1)
        metrics["dims"] = regression_metrics(output.dims_ref[finite], output.dims_pred[finite], dims)
        metrics["ccc"] = metrics["dims"]["mean_ccc"]
        metrics["n"] = int(finite.sum())
    if not (output.labels >= 0).any() and dims:
        metrics["loss"] = output.loss
        return metrics  # a regression-only model
    keep = output.labels >= 0
    refs = [label_names[int(r)] for r in output.labels[keep]]
    metrics.update(score_logits(output.logits[keep], refs, label_names).unmasked)
    metrics["loss"] = output.loss
    if votes is not None and len(label_names) and output.logits.shape[1] == len(label_names):
        voted = votes.sum(axis=1) > 0
        metrics["distribution"] = distribution_scores(votes[voted], output.logits[voted], label_names)
    return metrics


def evaluate_target(
    accelerator: Accelerator, model, target, name: str, label_names: list[str], *, window: int, batch_size: int, seed: int
) -> dict:
    """Test a trained model on a cross-corpus target, masked and unmasked (``hf_ser.evaluation.scoring``).

    Returns ``{"cross/<name>": masked, "cross_unmasked/<name>": unmasked}``: masked = the model's classes the
    target lacks are removed from the argmax; unmasked = every model class allowed (predicting an absent class
    is an error). Clips whose label the model lacks are left out and counted per label.
    """
    target_labels = target.dataset["label"]
    label2id = {n: i for i, n in enumerate(label_names)}
    ids = np.array([label2id.get(lab, -100) for lab in target_labels], dtype=np.int64)
    usable = np.flatnonzero(ids >= 0).tolist()
    if not usable:
        logger.warning("cross-corpus target %s shares no label with the model %s: skipped", name, label_names)
        return {}
    loader = eval_loader(target, usable, ids, window=window, batch_size=batch_size, seed=seed)
    out = predict(accelerator, model, accelerator.prepare(loader))
    labels = np.asarray(target_labels)
    left_out = {lab: int(np.sum(labels == lab)) for lab in sorted(set(target_labels) - set(label_names))}
    figures = target_figures(out.logits, [label_names[i] for i in out.labels], label_names, left_out=left_out)
    return {f"cross/{name}": {**figures["masked"], "loss": out.loss}, f"cross_unmasked/{name}": {**figures["unmasked"], "loss": out.loss}}


def subset(output: EvalOutput, sel: np.ndarray) -> EvalOutput:
    """The clips of ``output`` where ``sel`` is True (e.g. one corpus of a mixed split)."""
    return EvalOutput(
        indices=output.indices[sel], logits=output.logits[sel], labels=output.labels[sel], loss=output.loss,
        dims_pred=None if output.dims_pred is None else output.dims_pred[sel],
        dims_ref=None if output.dims_ref is None else output.dims_ref[sel],
    )


def save_model(model, feature_extractor, out_dir: Path) -> None:
    """``save_pretrained`` the model and its feature extractor into ``out_dir``, atomically (temp dir + rename)."""
    _save_atomically(model, feature_extractor, out_dir)
    if getattr(model.config, "adapter", None):
        # out_dir has the adapters merged (a plain model for pipeline and export); this copy keeps them apart,
        # loadable with from_pretrained for continued training.
        _save_atomically(model, feature_extractor, out_dir.with_name(out_dir.name + "_unmerged"), merge_adapter=False)


def _save_atomically(model, feature_extractor, out_dir: Path, **save_kwargs) -> None:
    # The previous model stays in place until the new one is complete and renamed over it (hf_ser.fsutil).
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True, **save_kwargs)
        feature_extractor.save_pretrained(tmp)


# ---------------------------------------------------------------------------------------------- checkpoints
def save_checkpoint(accelerator: Accelerator, fold_dir: Path, state: TrainerState, *, keep: int) -> Path:
    """Write model/optimizer/scheduler/RNG states plus ``trainer_state.json`` atomically; keep the newest ``keep``.

    The state goes to ``checkpoints/.tmp-step_N`` and is renamed to ``step_N`` only when complete, so a run
    killed while saving resumes from the previous checkpoint.
    """
    ckpt_root = fold_dir / "checkpoints"
    final = ckpt_root / f"step_{state.step:08d}"
    tmp = ckpt_root / f"{TMP_PREFIX}{final.name}"  # one name every process agrees on
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp), safe_serialization=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / STATE_FILE).write_text(json.dumps(state.__dict__, indent=1))
        publish_dir(tmp, final)  # fsync'ed, then renamed; a same-step checkpoint is removed only after that
        for old in sorted(ckpt_root.glob("step_*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def complete_checkpoints(fold_dir: Path) -> list[Path]:
    """A fold's complete checkpoints (renamed from their temporary folder), oldest first."""
    return sorted(p for p in (fold_dir / "checkpoints").glob("step_*") if (p / STATE_FILE).is_file())


def latest_checkpoint(fold_dir: Path) -> Path | None:
    """Newest complete checkpoint of a fold, or ``None``."""
    done = complete_checkpoints(fold_dir)
    return done[-1] if done else None


def load_latest_checkpoint(accelerator: Accelerator, fold_dir: Path) -> tuple[TrainerState, Path] | None:
    """Restore the newest intact checkpoint of a fold; ``None`` when the fold has none.

    Every file of a checkpoint is read before anything is restored: a damaged one (truncated weights,
    optimizer or trainer state) is reported by name with a warning and the previous checkpoint is used. An RNG
    state that cannot be read does not reject the checkpoint: it is a warning naming the file (the resumed run's
    random draws then differ from an uninterrupted run's).

    Raises:
        RuntimeError: checkpoints exist but none is intact (each damaged file is named).
    """
    damaged = []
    for path in reversed(complete_checkpoints(fold_dir)):
        problem = _damaged_file(path)
        if problem is not None:
            damaged.append(problem)
            logger.warning("checkpoint file %s is damaged (%s); trying the previous checkpoint", *problem)
            continue
        rng_file = path / f"random_states_{accelerator.process_index}.pkl"
        try:
            torch.load(rng_file, map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001 - any unreadable file means the same thing here
            logger.warning(
                "could not read the RNG state %s (%s): resuming without it, so random draws differ from an "
                "uninterrupted run's", rng_file, _short(e),
            )
        accelerator.load_state(str(path))
        return TrainerState(**json.loads((path / STATE_FILE).read_text())), path
    if damaged:
        raise RuntimeError(f"no intact checkpoint in {fold_dir / 'checkpoints'}: " + "; ".join(f"{f} ({r})" for f, r in damaged))
    return None


def _damaged_file(path: Path) -> tuple[Path, str] | None:
    """The first file of a checkpoint that cannot be read back, with the reason; ``None`` when all can."""
    from safetensors.torch import load_file

    for file in sorted(path.iterdir()):
        try:
            if file.name == STATE_FILE:
                TrainerState(**json.loads(file.read_text()))
            elif file.suffix == ".safetensors":
                load_file(file)
            elif file.suffix == ".bin":
                torch.load(file, map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001 - truncation shows up as many different exception types
            return file, _short(e)
    return None


def _short(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
