"""Predict a split with a prepared (possibly distributed) model, and score the predictions.

``predict_split`` gathers every clip's logits over all processes; ``score`` turns them into the in-corpus
metrics of ``metrics.json``; ``evaluate_target`` scores a cross-corpus target masked and unmasked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from accelerate import Accelerator

from hf_ser.evaluation.heap import HeapTrimmer
from hf_ser.evaluation.inference import clip_means, eval_loader, forward
from hf_ser.evaluation.scoring import score_logits, target_figures
from hf_ser.metrics import distribution_scores, regression_metrics
from hf_ser.metrics.calibration import soft_calibration
from hf_ser.metrics.registry import CCC, LOSS

logger = logging.getLogger(__name__)


@dataclass
class EvalOutput:
    """Predictions over a split, in dataset order (duplicates from uneven sharding removed)."""

    indices: np.ndarray
    logits: np.ndarray  # (clips, num_labels)
    labels: np.ndarray  # (clips,) reference ids, -100 where the clip's label is not one of the model's
    loss: float
    dims_pred: np.ndarray | None = None  # (clips, n_dims) for regression / multitask models
    dims_ref: np.ndarray | None = None


def predict_split(accelerator: Accelerator, model: torch.nn.Module, loader) -> EvalOutput:
    """Run ``model`` over a prepared window loader (``hf_ser.evaluation.inference.eval_loader``) and gather
    every clip's logits (the mean over its windows) on all processes. No autograd (``torch.inference_mode``);
    private memory stays flat however many batches (``hf_ser.evaluation.heap``)."""
    model.eval()
    trim = HeapTrimmer()
    gathered: dict[str, list[np.ndarray]] = {k: [] for k in ("index", "window", "logits", "labels", "dims_pred", "dims_ref")}
    with torch.inference_mode():
        for batch in loader:
            out = forward(model, batch)
            parts = {"index": batch["index"], "window": batch["window"], "logits": out.logits.float(), "labels": batch["labels"]}
            if getattr(out, "dims", None) is not None and "dims" in batch:
                parts.update(dims_pred=out.dims.float(), dims_ref=batch["dims"])
            for name, value in accelerator.gather_for_metrics(parts).items():
                gathered[name].append(value.cpu().numpy())
            trim()
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
    output: EvalOutput, label_names: list[str], *, dims: tuple[str, ...] = (), votes: np.ndarray | None = None,
    temperature: float = 1.0,
) -> dict:
    """In-corpus metrics of ``output`` (every model class allowed), through ``hf_ser.evaluation.scoring``.

    Classification metrics (WA, UA, macro-F1, ...) are computed over clips with a label id; with ``dims``,
    CCC / Pearson / Spearman / MAE per dimension are added under ``dims`` and their mean as ``ccc``. With
    ``votes`` (``(clips, num_labels)`` annotator vote distributions in ``output`` order, all-zero rows = no
    votes), the distribution scores of ``hf_ser.metrics.distribution_scores`` over the voted clips are added
    under ``distribution``. Calibration (``ece``, ``brier``, ...) is computed on ``softmax(logits / temperature)``;
    with a fitted temperature the raw logits' ``ece`` and ``brier`` are kept under ``uncalibrated``, and with votes
    the calibration against the vote distributions under ``distribution_calibration``.
    """
    metrics: dict = {}
    if dims and output.dims_pred is not None:
        finite = np.isfinite(output.dims_ref).all(axis=1)
        metrics["dims"] = regression_metrics(output.dims_ref[finite], output.dims_pred[finite], dims)
        metrics[CCC] = metrics["dims"]["mean_ccc"]
        metrics["n"] = int(finite.sum())
    if not (output.labels >= 0).any() and dims:
        metrics[LOSS] = output.loss
        return metrics  # a regression-only model
    keep = output.labels >= 0
    refs = [label_names[int(r)] for r in output.labels[keep]]
    metrics.update(score_logits(output.logits[keep], refs, label_names, temperature=temperature).unmasked)
    if temperature != 1.0:
        raw = score_logits(output.logits[keep], refs, label_names).unmasked
        metrics["uncalibrated"] = {"ece": raw["ece"], "brier": raw["brier"], "nll": raw["nll"]}
    metrics[LOSS] = output.loss
    if votes is not None and len(label_names) and output.logits.shape[1] == len(label_names):
        voted = votes.sum(axis=1) > 0
        metrics["distribution"] = distribution_scores(votes[voted], output.logits[voted], label_names)
        metrics["distribution_calibration"] = soft_calibration(output.logits[voted], votes[voted], temperature)
    return metrics


def evaluate_target(
    accelerator: Accelerator, model, target, name: str, label_names: list[str], *, window: int, batch_size: int, seed: int,
    temperature: float = 1.0, text_ids: list[list[int]] | None = None,
) -> dict:
    """Test a trained model on a cross-corpus target, masked and unmasked (``hf_ser.evaluation.scoring``).
    ``text_ids``: transcript token ids of every target row (speech + text models).

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
    loader = eval_loader(target, usable, ids, window=window, batch_size=batch_size, seed=seed, text_ids=text_ids)
    out = predict_split(accelerator, model, accelerator.prepare(loader))
    labels = np.asarray(target_labels)
    left_out = {lab: int(np.sum(labels == lab)) for lab in sorted(set(target_labels) - set(label_names))}
    figures = target_figures(out.logits, [label_names[i] for i in out.labels], label_names, left_out=left_out,
                             temperature=temperature)
    return {f"cross/{name}": {**figures["masked"], LOSS: out.loss}, f"cross_unmasked/{name}": {**figures["unmasked"], LOSS: out.loss}}


def subset(output: EvalOutput, sel: np.ndarray) -> EvalOutput:
    """The clips of ``output`` where ``sel`` is True (e.g. one corpus of a mixed split)."""
    return EvalOutput(
        indices=output.indices[sel], logits=output.logits[sel], labels=output.labels[sel], loss=output.loss,
        dims_pred=None if output.dims_pred is None else output.dims_pred[sel],
        dims_ref=None if output.dims_ref is None else output.dims_ref[sel],
    )
