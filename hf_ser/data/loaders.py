"""Loader RNG, sampling and loss weights: the data plumbing of one fold.

``train.py`` builds the training loader itself (it is part of the visible loop); evaluation loaders are
``hf_ser.evaluation.inference.eval_loader`` (windows); everything here is the same for every fold.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from hf_ser.corpora import read_columns, vote_matrix

logger = logging.getLogger(__name__)


def loader_generator(seed: int) -> torch.Generator:
    """A private generator for a DataLoader.

    Every DataLoader iterator draws a base seed from its generator; from the global RNG (the default) that
    draw would shift the dropout stream of a run resumed mid-epoch away from the uninterrupted run's.
    """
    return torch.Generator().manual_seed(seed)


def one_thread_worker(_worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: one intra-op thread per worker process (``num_workers`` workers each
    spinning up every core's worth of intra-op threads starve the training process; fairseq#3342)."""
    torch.set_num_threads(1)


def loader_kwargs(num_workers: int) -> dict[str, Any]:
    """Extra ``DataLoader(...)`` arguments: pinned batches on CUDA (copied with ``non_blocking``), one thread
    per worker; empty on a CPU run without workers, so CPU figures do not move."""
    kwargs: dict[str, Any] = {}
    if torch.cuda.is_available():
        kwargs["pin_memory"] = True
    if num_workers > 0:
        kwargs.update(worker_init_fn=one_thread_worker, persistent_workers=True)
    return kwargs


def keep_rows(split, keep: np.ndarray):
    """The split without the rows where ``keep`` is False (e.g. clips without dimensional labels)."""
    sides = ("train", "valid", "test")
    dropped = {side: sum(not keep[i] for i in getattr(split, side)) for side in sides}
    if any(dropped.values()):
        logger.warning("clips without dimensional labels left out of the regression run: %s", dropped)
    return dataclasses.replace(split, **{side: [i for i in getattr(split, side) if keep[i]] for side in sides})


def class_weights(train_ids: np.ndarray, num_labels: int) -> list[float]:
    """Inverse-frequency loss weights (``n / (classes * count)``), as sklearn's ``balanced``."""
    counts = np.bincount(train_ids[train_ids >= 0], minlength=num_labels).astype(float)
    return (counts.sum() / (num_labels * np.maximum(counts, 1.0))).tolist()


def soft_targets(dataset, label_names: Sequence[str], ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-row soft targets over ``label_names``: the vote distribution of the ``votes`` column.

    Rows whose votes miss every run class (or that have no votes) fall back to the one-hot of their class id;
    rows with id -100 and no votes get an all-zero row (no target). Returns ``(targets (n, K), rows with votes)``.
    """
    if "votes" not in dataset.column_names:
        distributions, has = np.zeros((len(ids), len(label_names)), np.float32), np.zeros(len(ids), bool)
    else:
        distributions, has = vote_matrix(read_columns(dataset, ("votes",))["votes"], label_names)
    fallback = ~has & (ids >= 0)
    distributions[np.flatnonzero(fallback), ids[fallback]] = 1.0
    return distributions, int(has.sum())


def balanced_weights(train_ids: np.ndarray) -> list[float]:
    """Per-clip sampling weights that make every class equally likely (class-balanced sampling)."""
    counts = np.bincount(train_ids[train_ids >= 0])
    return (1.0 / counts[train_ids]).tolist()
