"""Percentile bootstrap confidence intervals for WA / UA / macro-F1, resampling clips.

All resamples are drawn at once and scored from per-resample confusion matrices (one ``bincount``), so
1000 resamples of a CREMA-D-sized test set take well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hf_ser.metrics.registry import CLASS_METRICS, UA
from hf_ser.metrics.scores import scores_from_confusion

BOOTSTRAP_METRICS = CLASS_METRICS  # the metrics a confusion matrix gives
# Resamples scored per chunk: bounds the (chunk, n) index array to ~64 MB for n = 8000.
_CHUNK = 1000


def bootstrap_ci(
    references: Sequence[int],
    predictions: Sequence[int],
    labels: Sequence[str],
    *,
    metric: str = UA,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile bootstrap ``(1 - alpha)`` interval of ``metric``, resampling clips with replacement.

    Args:
        references: true class indices into ``labels``.
        predictions: predicted class indices into ``labels``.
        labels: class names (only their number is used).
        metric: one of ``BOOTSTRAP_METRICS``.
        n_boot: number of resamples.
        seed: seed of the numpy generator; the same seed gives the same interval.
        alpha: 0.05 gives a 95 % interval.

    Returns:
        ``(low, high)``; ``(nan, nan)`` for an empty input. Resamples where the metric is undefined
        are ignored.

    Raises:
        KeyError: unknown metric (the message lists the valid ones).
    """
    if metric not in BOOTSTRAP_METRICS:
        raise KeyError(f"unknown bootstrap metric {metric!r}; valid: {list(BOOTSTRAP_METRICS)}")
    refs = np.asarray(references, dtype=np.int64).reshape(-1)
    preds = np.asarray(predictions, dtype=np.int64).reshape(-1)
    if refs.shape != preds.shape:
        raise ValueError(f"{refs.size} references but {preds.size} predictions")
    n, k = refs.size, len(labels)
    if n == 0 or n_boot < 1:
        return float("nan"), float("nan")
    pair = refs * k + preds  # one code per clip: its confusion cell
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, n_boot, _CHUNK):
        b = min(_CHUNK, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        # Offset each resample's cells so that one bincount yields all b confusion matrices.
        codes = pair[idx] + (np.arange(b) * k * k)[:, None]
        conf = np.bincount(codes.ravel(), minlength=b * k * k).reshape(b, k, k)
        values.append(scores_from_confusion(conf)[metric])
    vals = np.concatenate(values)
    vals = vals[~np.isnan(vals)]
    if vals.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(vals, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def bootstrap_ci_from_confusion(
    confusion: Sequence[Sequence[int]], *, metric: str = UA, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """:func:`bootstrap_ci` of a stored confusion matrix (a run's ``metrics.json``): resampling clips only
    needs each clip's (reference, prediction) cell, which the counts give back exactly."""
    conf = np.asarray(confusion, dtype=np.int64)
    k = conf.shape[0]
    cells = np.repeat(np.arange(k * k), conf.reshape(-1))
    return bootstrap_ci(cells // k, cells % k, [""] * k, metric=metric, n_boot=n_boot, seed=seed, alpha=alpha)


def bootstrap_ccc_ci(
    references: np.ndarray,
    predictions: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[list[tuple[float, float]], tuple[float, float]]:
    """Percentile bootstrap ``(1 - alpha)`` intervals of the CCC of each dimension and of their mean.

    Clips are resampled with replacement (the same resample for every dimension, so the mean's interval
    keeps the dimensions' correlation).

    Args:
        references, predictions: ``(n, d)`` values.

    Returns:
        ``([(low, high) per dimension], (low, high) of the mean CCC)``; NaN bounds when undefined.
    """
    refs = np.asarray(references, np.float64)
    preds = np.asarray(predictions, np.float64)
    refs = refs[:, None] if refs.ndim == 1 else refs
    preds = preds[:, None] if preds.ndim == 1 else preds
    n, d = refs.shape
    nan = (float("nan"), float("nan"))
    if n == 0 or n_boot < 1:
        return [nan] * d, nan
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, n_boot, _CHUNK):
        idx = rng.integers(0, n, size=(min(_CHUNK, n_boot - start), n))
        x, y = refs[idx], preds[idx]  # (b, n, d)
        xm, ym = x.mean(axis=1, keepdims=True), y.mean(axis=1, keepdims=True)
        cov = ((x - xm) * (y - ym)).mean(axis=1)
        den = x.var(axis=1) + y.var(axis=1) + (xm - ym)[:, 0, :] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            values.append(np.where(den > 0, 2 * cov / den, np.nan))
    cccs = np.concatenate(values)  # (n_boot, d)

    def interval(v: np.ndarray) -> tuple[float, float]:
        v = v[~np.isnan(v)]
        if v.size == 0:
            return nan
        low, high = np.quantile(v, [alpha / 2, 1 - alpha / 2])
        return float(low), float(high)

    return [interval(cccs[:, j]) for j in range(d)], interval(cccs.mean(axis=1))
