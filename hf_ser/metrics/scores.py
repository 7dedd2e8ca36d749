"""Classification and regression scores in plain numpy: the one implementation behind the `evaluate` modules.

Everything here works on a confusion matrix (rows = reference, columns = prediction) with any number of
leading batch axes, so that a bootstrap computes a thousand resamples in one vectorised call.

Undefined values follow sklearn: a class with no reference clip has no recall and is left out of UA
(``balanced_accuracy_score`` semantics); a class with neither reference nor predicted clips is left out of
macro-F1; a class with references but no predictions has precision undefined (``None`` in the per-class
dict) and F1 = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from hf_ser.metrics.registry import CCC, MACRO_F1, UA, WA


def confusion_matrix(references: Sequence[int], predictions: Sequence[int], num_labels: int) -> np.ndarray:
    """Count (reference, prediction) pairs.

    Returns:
        ``confusion: (num_labels, num_labels)`` int64, rows = reference, columns = prediction.

    Raises:
        ValueError: lengths differ or an index is outside ``[0, num_labels)``.
    """
    refs = np.asarray(references, dtype=np.int64).reshape(-1)
    preds = np.asarray(predictions, dtype=np.int64).reshape(-1)
    if refs.shape != preds.shape:
        raise ValueError(f"{refs.size} references but {preds.size} predictions")
    for name, arr in (("reference", refs), ("prediction", preds)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_labels):
            raise ValueError(f"{name} index outside [0, {num_labels}): {sorted(set(arr.tolist()))}")
    return np.bincount(refs * num_labels + preds, minlength=num_labels * num_labels).reshape(num_labels, num_labels)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def scores_from_confusion(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """WA, UA, macro-F1, per-class recall and precision from confusion matrices.

    Args:
        confusion: ``(..., K, K)`` counts, rows = reference, columns = prediction.

    Returns:
        ``wa, ua, macro_f1: (...)`` and ``recall, precision, f1: (..., K)``; NaN where undefined.
    """
    conf = np.asarray(confusion, dtype=np.float64)
    tp = np.diagonal(conf, axis1=-2, axis2=-1)
    ref_count = conf.sum(axis=-1)
    pred_count = conf.sum(axis=-2)
    n = ref_count.sum(axis=-1)
    recall = _safe_divide(tp, ref_count)
    precision = _safe_divide(tp, pred_count)
    f1 = _safe_divide(2 * tp, ref_count + pred_count)
    with np.errstate(invalid="ignore"):
        wa = _safe_divide(tp.sum(axis=-1), n)
        present = ref_count > 0
        ua = _safe_divide(np.where(present, recall, 0.0).sum(axis=-1), present.sum(axis=-1))
        seen = (ref_count + pred_count) > 0
        macro_f1 = _safe_divide(np.where(seen, f1, 0.0).sum(axis=-1), seen.sum(axis=-1))
    return {WA: wa, UA: ua, MACRO_F1: macro_f1, "recall": recall, "precision": precision, "f1": f1}


def chance_scores(confusion: np.ndarray) -> dict[str, float]:
    """Chance levels of a confusion matrix's test set: what guessing reaches without listening.

    ``ua`` and ``macro_f1``: guessing each of the ``K`` labels with probability ``1/K`` (expected confusion
    ``support / K`` in every column); ``wa``: always answering the most frequent label.
    """
    support = np.asarray(confusion, dtype=np.float64).sum(axis=-1)
    k = support.shape[-1]
    uniform = scores_from_confusion(np.repeat(support[:, None] / k, k, axis=1))
    n = support.sum()
    return {
        WA: float(support.max() / n) if n else float("nan"),
        UA: float(uniform[UA]),
        MACRO_F1: float(uniform[MACRO_F1]),
    }


def _none_if_nan(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def classification_scores(references: Sequence[int], predictions: Sequence[int], labels: Sequence[str]) -> dict:
    """All classification numbers for one set of predictions, JSON-ready.

    Args:
        references: true class indices into ``labels``.
        predictions: predicted class indices into ``labels``.
        labels: class names; their order fixes the confusion matrix order.

    Returns:
        ``wa, ua, macro_f1`` (float, ``None`` when nothing was scored), ``n``, ``per_class_recall`` and
        ``per_class_precision`` (``{label: float | None}``, ``None`` = undefined), ``per_class_f1``,
        ``support`` (reference count per label), ``confusion`` (``[[int]]``, rows = reference) and ``labels``.
    """
    labels = [str(lab) for lab in labels]
    conf = confusion_matrix(references, predictions, len(labels))
    s = scores_from_confusion(conf)
    return {
        **{m: _none_if_nan(s[m]) for m in (WA, UA, MACRO_F1)},  # the order metrics.json has always had
        "n": int(conf.sum()),
        "per_class_recall": {lab: _none_if_nan(v) for lab, v in zip(labels, s["recall"])},
        "per_class_precision": {lab: _none_if_nan(v) for lab, v in zip(labels, s["precision"])},
        "per_class_f1": {lab: _none_if_nan(v) for lab, v in zip(labels, s["f1"])},
        "support": {lab: int(v) for lab, v in zip(labels, conf.sum(axis=1))},
        "confusion": conf.tolist(),
        "labels": labels,
    }


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    xc, yc = x - x.mean(), y - y.mean()
    den = np.sqrt((xc**2).sum() * (yc**2).sum())
    return float((xc * yc).sum() / den) if den > 0 else float("nan")


def ccc(references: np.ndarray, predictions: np.ndarray) -> float:
    """Lin's concordance correlation coefficient (population variances), 1 only for identical series."""
    x, y = np.asarray(references, np.float64), np.asarray(predictions, np.float64)
    cov = ((x - x.mean()) * (y - y.mean())).mean()
    den = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return float(2 * cov / den) if den > 0 else float("nan")


def regression_scores(references: np.ndarray, predictions: np.ndarray, dims: Sequence[str]) -> dict:
    """CCC, Pearson, Spearman and MAE per dimension (e.g. arousal, valence, dominance).

    Args:
        references: ``(n, d)`` true values (a ``(n,)`` array is read as one dimension).
        predictions: ``(n, d)`` predicted values.
        dims: ``d`` dimension names.

    Returns:
        ``{"n": n, "dims": [...], "per_dim": {dim: {"ccc", "pearson", "spearman", "mae"}}, "mean_ccc": float}``;
        NaN where a series is constant (correlation undefined).
    """
    refs = np.asarray(references, np.float64)
    preds = np.asarray(predictions, np.float64)
    refs = refs[:, None] if refs.ndim == 1 else refs
    preds = preds[:, None] if preds.ndim == 1 else preds
    if refs.shape != preds.shape or refs.shape[1] != len(dims):
        raise ValueError(f"shapes {refs.shape} and {preds.shape} do not match {len(dims)} dims {list(dims)}")
    per_dim = {}
    for j, dim in enumerate(dims):
        x, y = refs[:, j], preds[:, j]
        per_dim[str(dim)] = {
            CCC: ccc(x, y),
            "pearson": _pearson(x, y),
            # Spearman = Pearson on ranks; ties get their average rank, as in scipy.stats.spearmanr.
            "spearman": _pearson(rankdata(x), rankdata(y)),
            "mae": float(np.abs(x - y).mean()) if len(x) else float("nan"),
        }
    cccs = [v[CCC] for v in per_dim.values()]
    return {
        "n": int(refs.shape[0]),
        "dims": [str(d) for d in dims],
        "per_dim": per_dim,
        "mean_ccc": float(np.mean(cccs)) if cccs else float("nan"),
    }
