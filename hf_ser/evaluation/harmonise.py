"""Label harmonisation between a model's classes and a target corpus's labels.

A model trained on labels L_m is scored on a target whose clips carry labels L_t:

* An optional ``label_map`` ``{name: name | None}`` renames labels on **both** sides before anything else:
  ``{"calm": "neutral"}`` merges the model's ``calm`` class into ``neutral`` (a prediction of ``calm`` counts as
  ``neutral``) and relabels target ``calm`` clips as ``neutral``; a ``None`` value drops target clips with that
  label (and a model class mapped to ``None`` can never be predicted). Unlisted labels stay as they are.
* Target clips whose (mapped) label is not among the model's (mapped) labels are left out, with a reason.
* The evaluation label space is the model's mapped labels in class-id order ("unmasked"). The model's labels
  that none of the kept target clips carries are "absent": in the **masked** figure their logits are set to
  -inf before the argmax (the model must choose among the target's classes); in the **unmasked** figure they
  stay, and a prediction of an absent class counts as an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

LabelMap = Mapping[str, "str | None"]


def apply_label_map(label: str, label_map: LabelMap | None) -> str | None:
    """Rename one label through ``label_map`` (unlisted labels are kept; ``None`` means dropped)."""
    if label_map and label in label_map:
        return label_map[label]
    return label


@dataclass(frozen=True)
class LabelPlan:
    """How model classes and target labels meet.

    Attributes:
        model_labels: the model's ``id2label`` names in class-id order.
        eval_labels: unique mapped model labels in first-occurrence order (the unmasked label space).
        target_labels: the eval labels that kept target clips carry, in eval order (the masked label space).
        absent_labels: eval labels the target lacks (masked out in the masked figure).
        class_to_eval: ``(num_model_classes,)`` eval-label index of each model class, -1 if mapped to ``None``.
    """

    model_labels: tuple[str, ...]
    eval_labels: tuple[str, ...]
    target_labels: tuple[str, ...]
    absent_labels: tuple[str, ...]
    class_to_eval: np.ndarray

    def masked_out_classes(self) -> np.ndarray:
        """Boolean ``(num_model_classes,)``: model classes whose logits the masked figure sets to -inf."""
        allowed = {self.eval_labels.index(lab) for lab in self.target_labels}
        return np.array([idx not in allowed for idx in self.class_to_eval.tolist()], dtype=bool)


def plan_labels(
    model_labels: Sequence[str], target_labels: Sequence[str], label_map: LabelMap | None = None
) -> tuple[LabelPlan, list[str | None], list[str | None]]:
    """Match the model's classes with the target clips' labels.

    Args:
        model_labels: ``config.id2label`` names in class-id order.
        target_labels: one label per target clip.
        label_map: optional renaming applied to both sides (see the module docstring).

    Returns:
        ``(plan, mapped_target, reasons)``: ``mapped_target[i]`` is clip i's label after the map, and
        ``reasons[i]`` is ``None`` for a kept clip or why it is left out.

    Raises:
        ValueError: every model class is mapped to ``None``.
    """
    mapped_model = [apply_label_map(str(lab), label_map) for lab in model_labels]
    eval_labels: list[str] = []
    for lab in mapped_model:
        if lab is not None and lab not in eval_labels:
            eval_labels.append(lab)
    if not eval_labels:
        raise ValueError(f"label_map {dict(label_map or {})} maps every model class to None")
    class_to_eval = np.array([eval_labels.index(lab) if lab is not None else -1 for lab in mapped_model])
    mapped_target: list[str | None] = []
    reasons: list[str | None] = []
    for lab in target_labels:
        mapped = apply_label_map(str(lab), label_map)
        mapped_target.append(mapped)
        if mapped is None:
            reasons.append(f"label {lab!r} dropped by the label map")
        elif mapped not in eval_labels:
            shown = f"{lab!r}" if mapped == lab else f"{lab!r} (mapped to {mapped!r})"
            reasons.append(f"label {shown} not in the model's label set")
        else:
            reasons.append(None)
    present = {m for m, r in zip(mapped_target, reasons) if r is None}
    plan = LabelPlan(
        model_labels=tuple(str(lab) for lab in model_labels),
        eval_labels=tuple(eval_labels),
        target_labels=tuple(lab for lab in eval_labels if lab in present),
        absent_labels=tuple(lab for lab in eval_labels if lab not in present),
        class_to_eval=class_to_eval,
    )
    return plan, mapped_target, reasons


def argmax_eval_labels(logits: np.ndarray, plan: LabelPlan, *, masked: bool) -> np.ndarray:
    """Arg-max predictions as indices into ``plan.eval_labels``.

    Args:
        logits: ``(n, num_model_classes)`` raw model outputs.
        plan: from ``plan_labels``.
        masked: set the logits of classes the target lacks (and of classes mapped to ``None``) to -inf first.

    Returns:
        ``(n,)`` int64 eval-label indices.
    """
    return plan.class_to_eval[_allowed_scores(logits, plan, masked=masked).argmax(axis=1)]


def _allowed_scores(logits: np.ndarray, plan: LabelPlan, *, masked: bool) -> np.ndarray:
    """A float64 copy of ``logits`` with every class that may not answer set to -inf: classes mapped to ``None``
    (never a valid answer, masked or not) and, when ``masked``, the classes the target lacks."""
    scores = np.asarray(logits, dtype=np.float64).copy()
    scores[:, plan.class_to_eval < 0] = -np.inf
    if masked:
        scores[:, plan.masked_out_classes()] = -np.inf
    return scores


def label_probabilities(logits: np.ndarray, plan: LabelPlan, *, masked: bool, temperature: float = 1.0) -> np.ndarray:
    """``(n, len(plan.eval_labels))`` probabilities of the eval labels: the softmax of ``logits / temperature``
    over the allowed model classes (those ``argmax_eval_labels`` may choose), summed over classes that map to one label."""
    from hf_ser.metrics.calibration import probabilities

    probs = probabilities(_allowed_scores(logits, plan, masked=masked), temperature)
    out = np.zeros((len(probs), len(plan.eval_labels)))
    for cls, idx in enumerate(plan.class_to_eval.tolist()):
        if idx >= 0:
            out[:, idx] += probs[:, cls]
    return out
