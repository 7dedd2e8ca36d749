"""ShEMO: Sharif Emotional Speech Database (Persian).

Layout (GitHub ``mansourehk/ShEMO``)::

    <root>/male/M12A29.wav
    <root>/female/F01N05.wav
    <root>/transcript/final text/M12A29.ort     (optional; UTF-8 with BOM, may hold U+200E/U+200F marks)

Any folder depth is accepted: every ``*.wav`` under ``root`` whose NAME matches is used; ``male/`` and
``female/`` are never read as metadata.

Filename ``GNNEUU``: gender ``M``/``F``, speaker number (2 digits), emotion letter, utterance (2 digits).
Speaker numbers restart per gender, so the speaker id keeps the letter: ``M12`` and ``F12`` are different
people. Gender comes from the first letter.

Labels: A anger, H happiness, N neutral, S sadness, W surprise, F fear (F has only 29 clips in EmoBox's
copy, so 5-class work often drops it: ``label_set=[...]`` without ``fear``).

Speakers: 87 (56 male, 31 female). Language ``fa``. 44.1 kHz, except 121 files at 22.05 kHz (all male
speakers, e.g. M27): never assume the rate, ``sample_rate`` comes from each header.

Transcripts: ``transcript/final text/<stem>.ort`` when present (BOM and LRM/RLM marks stripped, whitespace
collapsed); ``text`` is ``""`` for clips without one.

License: not stated in the files we could check [unverified]; distributed on GitHub mansourehk/ShEMO.
Known issues: the paper reports 3000 clips, EmoBox loads 2838 [unverified which is the current release].
Folds: no official split; ``shemo_emobox`` is EmoBox's speaker-dependent 25 % split, clip for clip.
"""

from __future__ import annotations

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

INFO = CorpusInfo(
    name="shemo",
    title="ShEMO: Sharif Emotional Speech Database (Persian)",
    languages=("fa",),
    labels=("anger", "fear", "happiness", "neutral", "sadness", "surprise"),
    license="unknown (research use; see the GitHub repository)",
    url="https://github.com/mansourehk/ShEMO",
    protocols=("shemo_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "A": "anger",
    "H": "happiness",
    "N": "neutral",
    "S": "sadness",
    "W": "surprise",
    "F": "fear",
}
GENDERS: dict[str, str] = {"M": "male", "F": "female"}
EXPECTED = "male/ and female/ folders with GNNEUU.wav files (e.g. male/M12A29.wav), optional transcript/final text/*.ort"

_NAME = re.compile(r"^([MF])(\d{2})([AHNSWF])(\d{2})$", re.IGNORECASE)
# Left-to-right / right-to-left marks are invisible direction hints in the Persian transcripts.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f\ufeff")


def _read_transcripts(root: Path) -> dict[str, str]:
    """Map utterance stem -> transcript from every ``*.ort`` file under ``root``."""
    texts: dict[str, str] = {}
    for path in iter_files(root, "*.ort", dangling=False):
        raw = path.read_bytes().decode("utf-8-sig", errors="replace")
        text = " ".join(raw.translate(_DIRECTION_MARKS).split())
        texts[path.stem.upper()] = text
    return texts


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    texts = _read_transcripts(root)
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        m = _NAME.match(path.stem)
        if m is None:
            yield SkippedFile(rel, "unparseable file name (expected GNNEUU, e.g. M12A29)")
            continue
        gender, number, code, utterance = (g.upper() for g in m.groups())
        stem = path.stem.upper()
        yield Clip(
            path=path,
            utt_id=stem,
            emotion=LABELS[code],
            orig_label=code,
            speaker=f"{gender}{number}",
            gender=GENDERS[gender],
            language="fa",
            text=texts.get(stem, ""),
            meta={"utterance": utterance},
        )


def load_shemo(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load ShEMO from its distributed layout.

    Args:
        root: the ShEMO folder (holding ``male/``, ``female/`` and optionally ``transcript/``).
        label_set: label-set name or list of canonical labels.
        label_map: optional map from ShEMO codes (``"W"``) or canonical labels to canonical labels or ``None``.
        skip_log: receives the file accounting.

    Returns:
        The canonical clip dataset (see ``hf_ser.corpora._schema``).
    """
    return load_parsed(
        "shemo", root, _parse, expected=EXPECTED,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )
