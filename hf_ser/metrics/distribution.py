"""Scores against annotator vote distributions (soft labels), and the class-balanced test subset.

* ``js``: Jensen-Shannon divergence between the vote distribution and the predicted distribution (softmax of
  the logits), base 2, so 0 = identical and 1 = disjoint; mean over clips.
* ``kl``: Kullback-Leibler divergence KL(votes || prediction) in nats, mean over clips (predictions are
  clipped at 1e-8, so a class the raters chose and the model rules out costs about 18 nats, not infinity).
* ``multilabel_macro_f1``: both distributions are turned into multi-hot labels by keeping every class whose
  share reaches ``threshold`` (default ``1 / num_classes``), then the per-class F1 of those binary decisions is
  averaged over the classes (a class with no positive reference and no positive prediction is left out). This is
  the thresholded multi-label F1 that EMO-SUPERB reports for distribution labels (Wu et al. 2024, "EMO-SUPERB: An
  In-depth Look at Speech Emotion Recognition", arXiv 2402.13018) [threshold 1/C unverified: re-check against
  the paper before comparing numbers with it].

``balanced_indices`` is the class balancing of the MSP-Podcast challenge's categorical test: every class keeps
as many clips as the rarest class has (a seeded random choice within each class), so macro-F1 on it is not
driven by the majority classes. The official balanced partition (MSP-Podcast Test3) needs no subsampling: it
was selected balanced by the corpus authors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_EPS = 1e-8


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(n, K)`` logits (stable)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _normalise(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
    return p / np.maximum(p.sum(axis=1, keepdims=True), _EPS)


def js_divergence(targets: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Per-row Jensen-Shannon divergence (base 2, in [0, 1]) between two ``(n, K)`` distributions."""
    p, q = _normalise(targets), _normalise(predictions)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(a > 0, a * np.log2(a / np.maximum(b, _EPS)), 0.0)
        return terms.sum(axis=1)

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def kl_divergence(targets: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Per-row KL(targets || predictions) in nats."""
    p, q = _normalise(targets), np.clip(_normalise(predictions), _EPS, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(p / q), 0.0).sum(axis=1)


def multilabel_macro_f1(targets: np.ndarray, predictions: np.ndarray, threshold: float | None = None) -> float:
    """Macro-F1 of the multi-hot labels ``share >= threshold`` (default ``1 / K``) of both distributions."""
    p, q = _normalise(targets), _normalise(predictions)
    t = 1.0 / p.shape[1] if threshold is None else threshold
    ref, hyp = p >= t - 1e-12, q >= t - 1e-12
    f1s = []
    for c in range(p.shape[1]):
        tp = int((ref[:, c] & hyp[:, c]).sum())
        fp = int((~ref[:, c] & hyp[:, c]).sum())
        fn = int((ref[:, c] & ~hyp[:, c]).sum())
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else float("nan")


def distribution_scores(
    targets: np.ndarray, logits: np.ndarray, labels: Sequence[str], *, threshold: float | None = None
) -> dict:
    """JS / KL divergence and thresholded multi-label macro-F1 of predictions against vote distributions.

    Args:
        targets: ``(n, K)`` vote distributions over ``labels`` (rows sum to 1).
        logits: ``(n, K)`` model logits over the same labels.
        labels: class names (recorded with the scores).
        threshold: multi-hot threshold (default ``1 / K``).
    """
    if len(targets) == 0:
        return {"n": 0, "js": None, "kl": None, "multilabel_macro_f1": None, "labels": list(labels)}
    probs = softmax(logits)
    return {
        "n": int(len(targets)),
        "js": float(js_divergence(targets, probs).mean()),
        "kl": float(kl_divergence(targets, probs).mean()),
        "multilabel_macro_f1": multilabel_macro_f1(targets, probs, threshold),
        "threshold": 1.0 / len(labels) if threshold is None else threshold,
        "labels": list(labels),
    }


def balanced_indices(references: Sequence[int], *, seed: int = 0) -> np.ndarray:
    """Indices of a class-balanced subset: each class present keeps as many clips as the rarest one (sorted)."""
    refs = np.asarray(references)
    classes = [c for c in np.unique(refs) if c >= 0]
    if not classes:
        return np.zeros(0, dtype=np.int64)
    smallest = min(int((refs == c).sum()) for c in classes)
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(refs == c), size=smallest, replace=False) for c in classes]
    return np.sort(np.concatenate(chosen)).astype(np.int64)
