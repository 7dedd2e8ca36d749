"""SER metrics: WA, UA, macro-F1, confusion (classification) and CCC & co. (dimensions), with bootstrap CIs.

The numbers are computed through the `evaluate` modules shipped in ``hf_ser/metrics/<name>/<name>.py``
(loaded from their path, so offline), which in turn call ``hf_ser.metrics.scores``.

Conventions: WA = accuracy; UA = unweighted average recall = sklearn ``balanced_accuracy_score`` (a class with
no reference clip has no recall and is left out of the mean; predictions into it still count as errors);
confusion rows = reference, columns = prediction; per-class values that are undefined are ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hf_ser.metrics.bootstrap import (
    BOOTSTRAP_METRICS,
    bootstrap_ccc_ci,
    bootstrap_ci,
    bootstrap_ci_from_confusion,
)
from hf_ser.metrics.distribution import (
    balanced_indices,
    distribution_scores,
    js_divergence,
    kl_divergence,
    multilabel_macro_f1,
    softmax,
)
from hf_ser.metrics.loading import METRIC_MODULES, load_metric, metric_path
from hf_ser.metrics.scores import chance_scores


def classification_metrics(references: Sequence[int], predictions: Sequence[int], labels: Sequence[str]) -> dict:
    """WA, UA, macro-F1, per-class recall/precision and confusion for class-index predictions.

    Args:
        references: true class indices into ``labels``.
        predictions: predicted class indices into ``labels``.
        labels: class names in index order.

    Returns:
        ``{"wa", "ua", "macro_f1", "n", "per_class_recall", "per_class_precision", "per_class_f1",
        "support", "confusion", "labels"}`` (see ``hf_ser.metrics.scores.classification_scores``).
    """
    refs = [int(r) for r in references]
    preds = [int(p) for p in predictions]
    return load_metric("ser_classification").compute(predictions=preds, references=refs, labels=list(labels))


def regression_metrics(references: np.ndarray, predictions: np.ndarray, dims: Sequence[str]) -> dict:
    """CCC, Pearson, Spearman and MAE per dimension.

    Args:
        references: ``(n, d)`` true values.
        predictions: ``(n, d)`` predicted values.
        dims: the ``d`` dimension names.

    Returns:
        ``{"n", "dims", "per_dim": {dim: {"ccc", "pearson", "spearman", "mae"}}, "mean_ccc"}``.
    """
    refs = np.asarray(references, dtype=np.float64)
    preds = np.asarray(predictions, dtype=np.float64)
    refs = refs[:, None] if refs.ndim == 1 else refs
    preds = preds[:, None] if preds.ndim == 1 else preds
    return load_metric("ser_regression").compute(predictions=preds.tolist(), references=refs.tolist(), dims=list(dims))


__all__ = [
    "BOOTSTRAP_METRICS",
    "METRIC_MODULES",
    "balanced_indices",
    "bootstrap_ccc_ci",
    "bootstrap_ci",
    "bootstrap_ci_from_confusion",
    "chance_scores",
    "classification_metrics",
    "distribution_scores",
    "js_divergence",
    "kl_divergence",
    "load_metric",
    "metric_path",
    "multilabel_macro_f1",
    "regression_metrics",
    "softmax",
]
