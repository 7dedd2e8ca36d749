"""A figure over folds: the mean and the sample standard deviation, written once for every report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STD_NOTE = "sample standard deviation over folds (ddof=1); 0 for one fold"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for one value) of a metric over folds; NaNs for none."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0
