"""Corpus registry: name -> loader. Adding a corpus is one module plus one entry here.

Each module ``hf_ser/corpora/<name>.py`` carries the corpus card as its docstring and exposes ``INFO`` and
``load_<name>(root, *, label_set="all", label_map=None, skip_log=None, ...) -> datasets.Dataset``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import datasets

from hf_ser.corpora import (
    aesdd,
    audiofolder,
    cafe,
    crema_d,
    emodb,
    emov_db,
    emovo,
    emozionalmente,
    esd,
    hub,
    iemocap,
    manifest,
    mesd,
    msp_podcast,
    ravdess,
    savee,
    shemo,
    subesco,
    tess,
    urdu,
)
from hf_ser.corpora._base import CorpusInfo, CorpusLayoutError, SkipLog, SkippedFile
from hf_ser.corpora._headers import recorded_headers
from hf_ser.corpora._labels import (
    CANONICAL_LABELS,
    LABEL_SETS,
    SPELLINGS,
    LabelSet,
    UnknownLabelsError,
    label_mapping,
    resolve_label_set,
    spelled_label,
)
from hf_ser.corpora._schema import clip_key, read_columns, speaker_key
from hf_ser.corpora._votes import NO_AGREEMENT, VOTE_LABELS, vote_distribution, vote_matrix
from hf_ser.corpora.manifest import NoSpeakersError
from hf_ser.errors import UserError


@dataclass(frozen=True)
class CorpusEntry:
    """A registered corpus: its facts and its loader."""

    info: CorpusInfo
    load: Callable[..., datasets.Dataset]


CORPORA: dict[str, CorpusEntry] = {
    "ravdess": CorpusEntry(ravdess.INFO, ravdess.load_ravdess),
    "crema_d": CorpusEntry(crema_d.INFO, crema_d.load_crema_d),
    "emodb": CorpusEntry(emodb.INFO, emodb.load_emodb),
    "emovo": CorpusEntry(emovo.INFO, emovo.load_emovo),
    "iemocap": CorpusEntry(iemocap.INFO, iemocap.load_iemocap),
    "savee": CorpusEntry(savee.INFO, savee.load_savee),
    "tess": CorpusEntry(tess.INFO, tess.load_tess),
    "cafe": CorpusEntry(cafe.INFO, cafe.load_cafe),
    "aesdd": CorpusEntry(aesdd.INFO, aesdd.load_aesdd),
    "shemo": CorpusEntry(shemo.INFO, shemo.load_shemo),
    "mesd": CorpusEntry(mesd.INFO, mesd.load_mesd),
    "emov_db": CorpusEntry(emov_db.INFO, emov_db.load_emov_db),
    "esd": CorpusEntry(esd.INFO, esd.load_esd),
    "subesco": CorpusEntry(subesco.INFO, subesco.load_subesco),
    "urdu": CorpusEntry(urdu.INFO, urdu.load_urdu),
    "emozionalmente": CorpusEntry(emozionalmente.INFO, emozionalmente.load_emozionalmente),
    "msp_podcast": CorpusEntry(msp_podcast.INFO, msp_podcast.load_msp_podcast),
    "manifest": CorpusEntry(manifest.INFO, manifest.load_manifest),
    "hub": CorpusEntry(hub.INFO, hub.load_hub),
    "audiofolder": CorpusEntry(audiofolder.INFO, audiofolder.load_audiofolder),
}


class UnknownCorpusError(UserError, KeyError):
    """A corpus name that is not in ``CORPORA``."""

    def __str__(self) -> str:  # KeyError quotes its message; this is a sentence
        return str(self.args[0]) if self.args else ""


def get_corpus(name: str) -> CorpusEntry:
    """Look a corpus up by registry name; the error lists the valid names."""
    try:
        return CORPORA[name]
    except KeyError:
        raise UnknownCorpusError(
            f"unknown corpus {name!r}; registered corpora: {sorted(CORPORA)} (`hf-ser corpora list`; your own "
            "recordings: manifest or audiofolder)"
        ) from None


def load_corpus(
    name: str,
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    min_samples: int = 0,
    header_cache: str | Path | None = None,
    **options,
) -> tuple[datasets.Dataset, SkipLog]:
    """Load corpus ``name`` from ``root`` and return the dataset with its skip accounting.

    ``min_samples``: clips shorter than this at 16 kHz are skipped as "too short" (pass the model CNN's
    receptive field, ``hf_ser.models.receptive_field``); 0 keeps every non-empty clip.
    ``header_cache``: a folder where audio headers are recorded and reused (``hf_ser.corpora._headers``; the
    audio cache's ``headers/``); ``None`` reads every header.
    """
    log = SkipLog(min_samples=min_samples)
    with recorded_headers(header_cache):
        ds = get_corpus(name).load(root, label_set=label_set, label_map=label_map, skip_log=log, **options)
    return ds, log


__all__ = [
    "CANONICAL_LABELS",
    "CORPORA",
    "LABEL_SETS",
    "NO_AGREEMENT",
    "VOTE_LABELS",
    "CorpusEntry",
    "CorpusInfo",
    "CorpusLayoutError",
    "LabelSet",
    "NoSpeakersError",
    "SPELLINGS",
    "UnknownCorpusError",
    "UnknownLabelsError",
    "SkipLog",
    "SkippedFile",
    "clip_key",
    "get_corpus",
    "label_mapping",
    "load_corpus",
    "read_columns",
    "resolve_label_set",
    "speaker_key",
    "spelled_label",
    "vote_distribution",
    "vote_matrix",
]
