"""The one scoring path: logits of scored clips -> masked and unmasked classification figures.

Training (validation, test and the cross-corpus targets scored after training), ``hf-ser evaluate`` and
``hf-ser matrix`` all turn logits into WA / UA / macro-F1 here, on a ``LabelPlan`` from
``hf_ser.evaluation.harmonise``:

* **unmasked**: every model class may be predicted; the label space is the model's (mapped) labels in class-id
  order, and predicting a class the target lacks is an error. This is also the in-corpus figure.
* **masked**: the model's classes that no scored clip carries are set to -inf before the argmax; the label
  space is the target's labels (in the model's class order).

A class mapped to ``None`` by a label map is never a valid answer, masked or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hf_ser.evaluation.harmonise import (
    LabelMap,
    LabelPlan,
    argmax_eval_labels,
    label_probabilities,
    plan_labels,
)
from hf_ser.metrics import classification_metrics
from hf_ser.metrics.calibration import calibration_scores, reliability_bins


@dataclass(frozen=True)
class Scores:
    """Masked and unmasked figures of one set of scored clips.

    Attributes:
        plan: how the model's classes met the clips' labels.
        references_mapped: per clip, the (mapped) reference label.
        refs_unmasked / preds_unmasked: ``(n,)`` indices into ``plan.eval_labels``.
        refs_masked / preds_masked: ``(n,)`` indices into ``plan.target_labels``.
        unmasked / masked: ``classification_metrics`` dicts (``wa``, ``ua``, ``macro_f1``, ``n``, ...).
    """

    plan: LabelPlan
    references_mapped: list[str]
    refs_unmasked: np.ndarray
    preds_unmasked: np.ndarray
    refs_masked: np.ndarray
    preds_masked: np.ndarray
    unmasked: dict[str, Any]
    masked: dict[str, Any]


def score_logits(
    logits: np.ndarray,
    references: Sequence[str],
    model_labels: Sequence[str],
    *,
    label_map: LabelMap | None = None,
    temperature: float = 1.0,
) -> Scores:
    """Score ``logits`` of clips whose labels are ``references``.

    Both figures carry the calibration of the label probabilities (``hf_ser.metrics.calibration``: ``ece``,
    ``brier``, ``nll``, ``accuracy_at_coverage`` and the ``reliability`` bins the diagram draws), computed on
    ``softmax(logits / temperature)`` over the classes each figure allows.

    Args:
        logits: ``(n, num_model_classes)`` raw model outputs (one row per clip, windows already aggregated).
        references: per clip, its label as the corpus gives it (before ``label_map``).
        model_labels: the model's ``id2label`` names in class-id order.
        label_map: renaming applied to both sides (see ``hf_ser.evaluation.harmonise``).
        temperature: the model's fitted temperature (1.0 = raw logits); it never changes a prediction.

    Returns:
        ``Scores`` with both figures.

    Raises:
        ValueError: a reference is outside the model's (mapped) labels (select the clips with
            ``harmonise.plan_labels`` first), or ``logits`` and ``references`` disagree in length.
    """
    logits = np.asarray(logits)
    if len(logits) != len(references):
        raise ValueError(f"{len(logits)} logit rows for {len(references)} references")
    plan, mapped, reasons = plan_labels(model_labels, references, label_map)
    bad = sorted({r for r in reasons if r is not None})
    if bad:
        raise ValueError(f"clips that cannot be scored were passed to score_logits: {bad}")
    eval_index = {lab: k for k, lab in enumerate(plan.eval_labels)}
    refs_unmasked = np.array([eval_index[m] for m in mapped], dtype=np.int64)
    preds_unmasked = argmax_eval_labels(logits, plan, masked=False) if len(logits) else np.zeros(0, dtype=np.int64)
    preds_masked_eval = argmax_eval_labels(logits, plan, masked=True) if len(logits) else np.zeros(0, dtype=np.int64)
    # The masked figure lives in the target's label space: neither side can hold an absent class.
    target_index = {lab: k for k, lab in enumerate(plan.target_labels)}
    to_target = np.array([target_index.get(lab, -1) for lab in plan.eval_labels], dtype=np.int64)
    refs_masked, preds_masked = to_target[refs_unmasked], to_target[preds_masked_eval]
    probs_unmasked = label_probabilities(logits, plan, masked=False, temperature=temperature)
    in_target = [eval_index[lab] for lab in plan.target_labels]
    probs_masked = label_probabilities(logits, plan, masked=True, temperature=temperature)[:, in_target]
    return Scores(
        plan=plan,
        references_mapped=[str(m) for m in mapped],
        refs_unmasked=refs_unmasked,
        preds_unmasked=preds_unmasked,
        refs_masked=refs_masked,
        preds_masked=preds_masked,
        unmasked={**classification_metrics(refs_unmasked, preds_unmasked, plan.eval_labels),
                  **_calibration(probs_unmasked, refs_unmasked, temperature)},
        masked={**classification_metrics(refs_masked, preds_masked, plan.target_labels),
                **_calibration(probs_masked, refs_masked, temperature)},
    )


def _calibration(probs: np.ndarray, refs: np.ndarray, temperature: float) -> dict[str, Any]:
    """The calibration record of one figure (probabilities already tempered and restricted to its labels)."""
    return {**calibration_scores(probs, refs, temperature), "reliability": reliability_bins(probs, refs)}


def target_figures(
    logits: np.ndarray, references: Sequence[str], model_labels: Sequence[str], *, left_out: dict[str, int],
    temperature: float = 1.0,
) -> dict[str, dict[str, Any]]:
    """A cross-corpus target's ``{"masked": ..., "unmasked": ...}`` as ``metrics.json`` records them.

    Args:
        logits / references / model_labels: as for ``score_logits`` (no label map: training runs use the
            canonical label set on both sides).
        left_out: clips per target label that the model cannot name (recorded, not scored).
        temperature: the model's fitted temperature (calibration figures only).
    """
    s = score_logits(logits, references, model_labels, temperature=temperature)
    masked = {**s.masked, "left_out_labels": dict(left_out), "shared_labels": list(s.plan.target_labels)}
    unmasked = {**s.unmasked, "left_out_labels": dict(left_out)}
    return {"masked": masked, "unmasked": unmasked}
