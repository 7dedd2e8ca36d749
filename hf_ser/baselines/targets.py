"""Dimensional targets (valence / arousal / dominance) from the canonical clip schema, for regression runs.

Corpora that carry dimensions (MSP-Podcast, IEMOCAP) fill the ``valence``, ``arousal`` and ``dominance``
columns; the others leave them NaN. A NaN row stays in the data (it still has a categorical label for
multitask) and is left out of the regression loss (``masked_ccc_loss``) and of ``dims_metrics``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from hf_ser.corpora import read_columns
from hf_ser.metrics import regression_metrics

logger = logging.getLogger(__name__)

DIMENSIONS = ("valence", "arousal", "dominance")


def dims_array(dataset, dims: Sequence[str]) -> np.ndarray:
    """The dimensional targets of every row.

    Args:
        dataset: a ``datasets.Dataset`` (or any mapping of column name -> sequence) in the canonical schema.
        dims: dimension names, each one of ``DIMENSIONS``.

    Returns:
        (rows, len(dims)) float32, NaN where a row has no value.

    Raises:
        KeyError: a name outside ``DIMENSIONS`` or a column the dataset lacks.
        ValueError: no dims asked for, or a dimension that no row carries (the corpus has no such labels).
    """
    if not dims:
        raise ValueError(f"no dims given; choose from {list(DIMENSIONS)}")
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise KeyError(f"Unknown dims {unknown}; choose from {list(DIMENSIONS)}")
    columns = getattr(dataset, "column_names", None) or list(dataset.keys())
    missing = [d for d in dims if d not in columns]
    if missing:
        raise KeyError(f"dataset has no column(s) {missing}")
    # A datasets.Dataset is read whole-column through Arrow (indexing its lazy Column row by row is slow).
    cols = read_columns(dataset, dims) if hasattr(dataset, "with_format") else {d: dataset[d] for d in dims}
    values = np.stack(
        [np.array([np.nan if v is None else v for v in cols[d]], dtype=np.float32) for d in dims], axis=1
    )
    empty = [d for j, d in enumerate(dims) if not np.isfinite(values[:, j]).any()]
    if empty:
        raise ValueError(
            f"no row has a value for {empty}: these corpora carry no dimensional labels "
            "(MSP-Podcast and IEMOCAP do)"
        )
    without = int((~np.isfinite(values).all(axis=1)).sum())
    if without:
        logger.warning("%d of %d rows lack a value for some of %s: left out of the regression loss and metrics",
                       without, len(values), list(dims))
    return values


def dims_metrics(references: np.ndarray, predictions: np.ndarray, dims: Sequence[str]) -> dict:
    """CCC, Pearson, Spearman and MAE per dimension over the rows whose references are all finite.

    Args:
        references: (n, d) targets, NaN where unknown.
        predictions: (n, d) predictions.
        dims: the d dimension names.

    Returns:
        ``hf_ser.metrics.regression_metrics`` output (``n`` counts the scored rows only).
    """
    refs = np.asarray(references, dtype=np.float64)
    preds = np.asarray(predictions, dtype=np.float64)
    refs = refs[:, None] if refs.ndim == 1 else refs
    preds = preds[:, None] if preds.ndim == 1 else preds
    keep = np.isfinite(refs).all(axis=1)
    return regression_metrics(refs[keep], preds[keep], dims)
