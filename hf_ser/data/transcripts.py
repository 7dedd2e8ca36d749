"""Transcripts produced once by ASR for the clips that have none (``data.transcripts: {asr: ...}``).

Run at data preparation, before any fold: every clip whose ``text`` is empty is transcribed by the named
recogniser (``hf_ser.models.asr``), and the result is cached per corpus and recogniser under
``<cache>/transcripts/<corpus>/<recogniser digest>.json`` (one entry per clip, keyed by ``utt_id``), so later runs and
every fold reuse it. Clips with a transcript of their own keep it. ``data_report.json`` names the recogniser and
counts the clips per source.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

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
    texts = list(data.column("text"))
    corpora, utts = data.column("corpus"), data.column("utt_id")
    report: dict[str, Any] = {"asr": asr, "corpora": {}}
    recogniser = None
    for corpus in sorted(set(corpora)):
        rows = [i for i, c in enumerate(corpora) if c == corpus]
        path = transcripts_cache_path(cache_root, corpus, asr)
        cached: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        missing = [i for i in rows if not (texts[i] or "").strip()]
        todo = [i for i in missing if utts[i] not in cached]
        counts = {"own": len(rows) - len(missing), "cached": len(missing) - len(todo), "transcribed": len(todo)}
        for start in tqdm(range(0, len(todo), BATCH), desc=f"ASR {corpus}", disable=not progress or not todo):
            if recogniser is None:
                from hf_ser.models.asr import build_asr

                recogniser = build_asr(asr)
            chunk = todo[start : start + BATCH]
            cached.update(zip((utts[i] for i in chunk), recogniser.transcribe([data.wave(i) for i in chunk])))
        if todo:
            atomic_write_text(path, json.dumps(dict(sorted(cached.items())), indent=1, ensure_ascii=False) + "\n")
        for i in missing:
            texts[i] = cached[utts[i]]
        report["corpora"][corpus] = counts
        logger.info("transcripts of %s by %s: %s", corpus, asr, counts)
    data.set_column("text", texts)
    return report
