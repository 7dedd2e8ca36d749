"""Pieces of the training loop that ``train.py`` calls: optimizer, schedule, evaluation, checkpoints.

The loop itself stays visible in ``hf_ser/train.py``; this module holds what it delegates to.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from transformers import get_scheduler

from hf_ser.evaluation.inference import clip_means, eval_loader, forward
from hf_ser.evaluation.scoring import score_logits, target_figures
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


def build_optimizer(model: torch.nn.Module, *, lr: float, head_lr: float | None, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW with one learning rate for the backbone and another for everything after it (pooling, head).

    Biases and norm weights get no weight decay. The fused kernel is used on CUDA.
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
    fused = torch.cuda.is_available()
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


@torch.no_grad()
def predict(accelerator: Accelerator, model: torch.nn.Module, loader) -> EvalOutput:
    """Run ``model`` over a prepared window loader (``hf_ser.evaluation.inference.eval_loader``) and gather
    every clip's logits (the mean over its windows) on all processes."""
    model.eval()
    gathered: dict[str, list[np.ndarray]] = {k: [] for k in ("index", "window", "logits", "labels", "dims_pred", "dims_ref")}
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
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    feature_extractor.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)


# ---------------------------------------------------------------------------------------------- checkpoints
def save_checkpoint(accelerator: Accelerator, fold_dir: Path, state: TrainerState, *, keep: int) -> Path:
    """Write model/optimizer/scheduler/RNG states plus ``trainer_state.json`` atomically; keep the newest ``keep``.

    The state goes to ``checkpoints/.tmp-step_N`` and is renamed to ``step_N`` only when complete, so a run
    killed while saving resumes from the previous checkpoint.
    """
    ckpt_root = fold_dir / "checkpoints"
    final = ckpt_root / f"step_{state.step:08d}"
    tmp = ckpt_root / f".tmp-step_{state.step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp), safe_serialization=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / STATE_FILE).write_text(json.dumps(state.__dict__, indent=1))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in sorted(ckpt_root.glob("step_*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def latest_checkpoint(fold_dir: Path) -> Path | None:
    """Newest complete checkpoint of a fold, or ``None``."""
    done = sorted(p for p in (fold_dir / "checkpoints").glob("step_*") if (p / STATE_FILE).is_file())
    return done[-1] if done else None


def load_checkpoint(accelerator: Accelerator, path: Path) -> TrainerState:
    accelerator.load_state(str(path))
    return TrainerState(**json.loads((path / STATE_FILE).read_text()))
