"""Load a recipe's corpora, decode them once into audio stores, and account for every file.

The result, ``PreparedData``, holds one concatenated canonical ``datasets.Dataset`` (rows of every corpus),
a per-corpus ``AudioStore`` and the per-corpus ``SkipLog`` that ``data_report.json`` is written from.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from hf_ser.config import CorpusSpec
from hf_ser.corpora import SkipLog, load_corpus
from hf_ser.corpora._labels import LabelSet
from hf_ser.data.store import AudioStore, default_cache_root

logger = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """Corpora ready for training: rows, decoded audio and the skip accounting."""

    dataset: datasets.Dataset
    stores: dict[str, AudioStore]
    skip_logs: dict[str, SkipLog]

    def key(self, index: int) -> str:
        row = self.dataset[index]
        return f"{row['corpus']}/{row['utt_id']}"

    def wave(self, index: int) -> np.ndarray:
        """16 kHz float32 waveform of row ``index``."""
        corpus = self._corpus[index]
        return self.stores[corpus].get(f"{corpus}/{self._utt[index]}")

    def num_samples(self, index: int) -> int:
        corpus = self._corpus[index]
        return self.stores[corpus].num_samples(f"{corpus}/{self._utt[index]}")

    def __post_init__(self) -> None:
        # Column caches: indexing a datasets.Dataset row by row is slow in the data loader's hot path.
        self._corpus = self.dataset["corpus"]
        self._utt = self.dataset["utt_id"]

    def report(self) -> dict:
        """What ``data_report.json`` holds: per corpus found / used / excluded / skipped with reasons."""
        return {name: log.to_dict() for name, log in self.skip_logs.items()}

    def fingerprint(self) -> str:
        """A short hash of the clips used (corpus, utt_id, label): names the data a run saw."""
        h = hashlib.sha256()
        for c, u, lab in zip(self.dataset["corpus"], self.dataset["utt_id"], self.dataset["label"]):
            h.update(f"{c}/{u}:{lab}\n".encode())
        return h.hexdigest()[:16]


def prepare_corpora(
    specs: Sequence[CorpusSpec],
    *,
    label_set: LabelSet = "all",
    cache_dir: str | Path | None = None,
    progress: bool = True,
    min_samples: int = 0,
) -> PreparedData:
    """Load every corpus of ``specs``, decode it once (cached), and concatenate the usable clips.

    ``min_samples``: clips shorter than this at 16 kHz are skipped as "too short" (the model CNN's receptive
    field, ``hf_ser.model_kinds.min_input_samples``).

    Raises:
        ValueError: ``specs`` is empty or a corpus is listed twice.
        CorpusLayoutError / GitLfsPointerError: from the loaders, naming the fix.
    """
    if not specs:
        raise ValueError("the recipe lists no corpora: set data.corpora to [{name: ..., root: ...}]")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"a corpus is listed twice in {names}")
    cache_root = Path(cache_dir) if cache_dir else default_cache_root()
    parts, stores, logs = [], {}, {}
    for spec in specs:
        ds, log = load_corpus(
            spec.name, spec.root, label_set=label_set, label_map=spec.label_map or None, min_samples=min_samples,
            **spec.options,
        )
        store, ds = AudioStore.prepare(ds, cache_root, skip_log=log, progress=progress)
        if not log.reconciles():
            raise AssertionError(f"{spec.name}: skip accounting does not reconcile: {json.dumps(log.to_dict())[:500]}")
        logger.info(
            "%s: %d files found, %d used, %d outside label set %s, %d skipped",
            spec.name, log.found, log.used, log.excluded_by_label_set, label_set, len(log.skipped),
        )
        if len(ds) == 0:
            raise ValueError(f"{spec.name}: no usable clip in label set {label_set!r} under {spec.root}")
        parts.append(ds)
        stores[spec.name] = store
        logs[spec.name] = log
    dataset = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    return PreparedData(dataset=dataset, stores=stores, skip_logs=logs)
