"""Transcripts produced once by ASR for the clips that have none (``data.transcripts: {asr: ...}``).

Run at data preparation, before any fold: every clip whose ``text`` is empty is transcribed by the named
recogniser (``hf_ser.models.asr``), and the result is cached per corpus and recogniser under
``<cache>/transcripts/<corpus>/<recogniser digest>.json`` (one entry per clip, keyed by ``utt_id``), so later runs and
every fold reuse it. Clips with a transcript of their own keep it. ``data_report.json`` names the recogniser and
counts the clips per source. ``hf-ser evaluate --asr`` fills its targets through the same cache
(``fill_dataset_transcripts``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from tqdm.auto import tqdm

from hf_ser.audio import SAMPLE_RATE, AudioError, load_audio
from hf_ser.data.prepare import PreparedData
from hf_ser.fsutil import atomic_write_text

logger = logging.getLogger(__name__)

BATCH = 8  # clips per recogniser call


def transcripts_cache_path(cache_root: str | Path, corpus: str, asr: str) -> Path:
    """``<cache_root>/transcripts/<corpus>/<digest of the recogniser name>.json``."""
    digest = hashlib.sha256(asr.encode()).hexdigest()[:16]
    return Path(cache_root) / "transcripts" / corpus / f"{digest}.json"


def fill_transcripts(data: PreparedData, asr: str, cache_root: str | Path, *, progress: bool = True) -> dict[str, Any]:
    """Give every clip of ``data`` without a transcript the one ``asr`` makes (cached; see the module).

    Replaces ``data.dataset``'s ``text`` column. Returns the ``data_report.json`` entry: the recogniser and, per
    corpus, how many clips kept their own transcript, came from the cache, or were transcribed now.
    """
    texts, report = _fill(
        data.column("text"), data.column("corpus"), data.column("utt_id"), data.wave, asr, cache_root, progress
    )
    data.set_column("text", texts)
    return report


def fill_dataset_transcripts(
    dataset: datasets.Dataset, asr: str, cache_root: str | Path, *, progress: bool = True
) -> tuple[datasets.Dataset, dict[str, Any]]:
    """``fill_transcripts`` for a loaded corpus (``hf-ser evaluate``'s targets: audio read from the ``path``
    column), through the same per-clip cache, so a target transcribed at training is read back, not redone.

    Returns the dataset with its ``text`` column filled and the report (as ``fill_transcripts``; a clip whose
    audio cannot be read keeps no transcript and is counted ``unreadable``: evaluation reports it left out).
    """
    paths = dataset["path"]
    texts = dataset["text"] if "text" in dataset.column_names else [""] * len(dataset)

    def wave(i: int) -> np.ndarray | None:
        try:
            return load_audio(paths[i], SAMPLE_RATE)[0]
        except (AudioError, OSError) as e:
            logger.warning("ASR: %s left without a transcript (%s)", paths[i], e)
            return None

    filled, report = _fill(texts, dataset["corpus"], dataset["utt_id"], wave, asr, cache_root, progress)
    if "text" in dataset.column_names:
        dataset = dataset.remove_columns("text")
    return dataset.add_column("text", filled), report


def _fill(
    own: Sequence[str | None], corpora: Sequence[str], utts: Sequence[str], wave: Callable[[int], np.ndarray | None],
    asr: str, cache_root: str | Path, progress: bool,
) -> tuple[list[str], dict[str, Any]]:
    """The transcripts (own, cached, or made now by ``asr`` from ``wave(row)``) and the report of the module."""
    texts = [t or "" for t in own]
    report: dict[str, Any] = {"asr": asr, "corpora": {}}
    recogniser = None
    for corpus in sorted(set(corpora)):
        rows = [i for i, c in enumerate(corpora) if c == corpus]
        path = transcripts_cache_path(cache_root, corpus, asr)
        cached: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        missing = [i for i in rows if not texts[i].strip()]
        todo = [i for i in missing if utts[i] not in cached]
        counts = {"own": len(rows) - len(missing), "cached": len(missing) - len(todo), "transcribed": 0}
        unreadable = 0
        for start in tqdm(range(0, len(todo), BATCH), desc=f"ASR {corpus}", disable=not progress or not todo):
            if recogniser is None:
                from hf_ser.models.asr import build_asr

                recogniser = build_asr(asr)
            chunk = [(i, w) for i in todo[start : start + BATCH] if (w := wave(i)) is not None]
            unreadable += min(BATCH, len(todo) - start) - len(chunk)
            if chunk:
                cached.update(zip((utts[i] for i, _ in chunk), recogniser.transcribe([w for _, w in chunk])))
        counts["transcribed"] = len(todo) - unreadable
        if unreadable:
            counts["unreadable"] = unreadable
        if counts["transcribed"]:
            atomic_write_text(path, json.dumps(dict(sorted(cached.items())), indent=1, ensure_ascii=False) + "\n")
        for i in missing:
            texts[i] = cached.get(utts[i], "")
        report["corpora"][corpus] = counts
        logger.info("transcripts of %s by %s: %s", corpus, asr, counts)
    return texts, report
