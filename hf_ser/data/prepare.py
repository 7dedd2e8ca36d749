"""Load a recipe's corpora, decode them once into audio stores, and account for every file.

The result, ``PreparedData``, holds one concatenated canonical ``datasets.Dataset`` (rows of every corpus),
a per-corpus ``AudioStore`` and the per-corpus ``SkipLog`` that ``data_report.json`` is written from.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np

from hf_ser.config import CorpusSpec
from hf_ser.corpora import LabelSet, SkipLog, label_mapping, read_columns
from hf_ser.data.corpus_cache import load_corpus_cached
from hf_ser.data.store import AudioStore, StoreDtype, default_cache_root, store_key

logger = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """Corpora ready for training: rows, decoded audio and the skip accounting.

    Row-level access (``wave``, ``num_samples``, ``key``, ``column``) never goes through ``datasets`` rows:
    the columns it needs are read once into plain lists / arrays (see ``read_columns``).
    """

    dataset: datasets.Dataset
    stores: dict[str, AudioStore]
    skip_logs: dict[str, SkipLog]
    # Per recipe entry, every label mapping applied (``hf_ser.corpora.label_mapping``): listed in data_report.json.
    label_mappings: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._columns: dict[str, list] = read_columns(self.dataset, ("corpus", "utt_id"))
        # Stores are named by recipe entry, rows by their ``corpus`` value (a manifest's ``corpus_name``).
        self._store_list = list(self.stores.values())
        position = {c: i for i, store in enumerate(self._store_list) for c in store.corpora}
        corpus, utt = self._columns["corpus"], self._columns["utt_id"]
        self._store_of = np.array([position[c] for c in corpus], dtype=np.int32)
        spans = [self._store_list[s].span(store_key(c, u)) for s, c, u in zip(self._store_of, corpus, utt)]
        self._offset = np.array([o for o, _ in spans], dtype=np.int64)
        self._length = np.array([n for _, n in spans], dtype=np.int64)

    def column(self, name: str) -> list:
        """Column ``name`` as a plain list (read once, then cached)."""
        if name not in self._columns:
            self._columns.update(read_columns(self.dataset, (name,)))
        return self._columns[name]

    def set_column(self, name: str, values: list) -> None:
        """Replace column ``name`` (same type) in the dataset and in the column cache, e.g. transcripts by ASR."""
        feature = self.dataset.features[name]
        self.dataset = self.dataset.remove_columns(name).add_column(name, values, feature=feature)
        self._columns[name] = list(values)

    def key(self, index: int) -> str:
        return store_key(self._columns["corpus"][index], self._columns["utt_id"][index])

    def wave(self, index: int) -> np.ndarray:
        """16 kHz float32 waveform of row ``index``."""
        return self._store_list[self._store_of[index]].read(int(self._offset[index]), int(self._length[index]))

    def num_samples(self, index: int) -> int:
        return int(self._length[index])

    @property
    def lengths(self) -> np.ndarray:
        """Samples per row, ``(rows,)`` int64."""
        return self._length

    def report(self) -> dict:
        """What ``data_report.json`` holds: per corpus found / used / excluded / skipped with reasons, every label
        mapping applied (``label_mapping``: ``[{"from": "happy", "to": "happiness", "clips": 12}]``), and
        ``audio_store.content_changed``: files whose content differed from the corpus's previous store (each
        decoded again)."""
        return {
            name: {
                **log.to_dict(),
                "label_mapping": self.label_mappings.get(name, []),
                "audio_store": {"content_changed": self.stores[name].content_changed},
            }
            for name, log in self.skip_logs.items()
        }

    def fingerprint(self) -> str:
        """A short hash of the clips used (corpus, utt_id, label): names the data a run saw."""
        h = hashlib.sha256()
        for c, u, lab in zip(self._columns["corpus"], self._columns["utt_id"], self.column("label")):
            h.update(f"{store_key(c, u)}:{lab}\n".encode())
        return h.hexdigest()[:16]


def prepare_corpora(
    specs: Sequence[CorpusSpec],
    *,
    label_set: LabelSet = "all",
    cache_dir: str | Path | None = None,
    progress: bool = True,
    min_samples: int = 0,
    store_dtype: StoreDtype = "float32",
    max_file_s: float | None = None,
) -> PreparedData:
    """Load every corpus of ``specs``, decode it once (cached), and concatenate the usable clips.

    Every process of a run may call this at once (no barrier needed): per cache folder one process loads and
    decodes, the others wait on its file lock and reuse the result (see ``hf_ser.data.store``).

    Args:
        min_samples: clips shorter than this at 16 kHz are skipped as "too short" (the model CNN's receptive
            field, ``hf_ser.model_kinds.min_input_samples``).
        store_dtype: ``float32`` or ``int16`` samples in the audio store (``int16``: half the disk).
        max_file_s: files longer than this (read from the header, never decoded) are skipped as "too long"
            (``data.max_file_s``); ``None``: no limit.

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
    parts, stores, logs, mappings = [], {}, {}, {}
    for spec in specs:
        ds, log = load_corpus_cached(
            spec.name, spec.root, cache_root, label_set=label_set, label_map=spec.label_map or None,
            min_samples=min_samples, **spec.options,
        )
        store, ds = AudioStore.prepare(
            ds, cache_root, dtype=store_dtype, max_file_s=max_file_s, skip_log=log, progress=progress
        )
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
        cols = read_columns(ds, ("orig_label", "label"))
        mappings[spec.name] = label_mapping(cols["orig_label"], cols["label"])
    dataset = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    return PreparedData(dataset=dataset, stores=stores, skip_logs=logs, label_mappings=mappings)
