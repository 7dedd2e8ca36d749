"""CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset (English, US).

Corpus card
-----------
* Source: https://github.com/CheyneyComputerScience/CREMA-D (git-lfs; GitLab mirror
  gitlab.com/cs-cooper-lab/crema-d-mirror). A GitHub zip or a clone without git-lfs gives 3-line pointer
  text files instead of audio: the loader raises ``GitLfsPointerError`` with the fix (``git lfs pull``).
* License: Open Database License 1.0 + Database Contents License 1.0.
* Audio: ``AudioWAV/*.wav``, 16 kHz mono, 1.27-5.01 s; 7442 files from 91 actors (48 M / 43 F, age 20-74).
  ``AudioMP3/`` (44.1 kHz, what the raters heard) is not used. The repository has been partly reorganised
  over time, so ``AudioWAV/`` and ``VideoDemographics.csv`` are located by glob anywhere under the root.
* File name ``AAAA_SSS_EEE_LL.wav``: actor 1001-1091, sentence code, emotion, level. Level is LO/MD/HI
  (only with sentence IEO) or XX (unspecified). The legacy 1-char level of old clones (``1040_ITH_SAD_X``,
  renamed upstream in 2022) is accepted and normalised to ``XX`` in ``utt_id``, so a tree holding both
  spellings keeps one copy.
* Emotion codes -> canonical: ANG anger, DIS disgust, FEA fear, HAP happiness, NEU neutral, SAD sadness.
* Sentences (the ``text`` column): IEO "It's eleven o'clock", TIE "That is exactly what happened",
  IOM "I'm on my way to the meeting", IWW "I wonder what this is about", TAI "The airplane is almost full",
  MTI "Maybe tomorrow it will be cold", IWL "I would like a new alarm clock", ITH "I think I have a doctor's
  appointment", DFA "Don't forget a jacket", ITS "I think I've seen this before", TSI "The surface is
  slick", WSI "We'll stop in a couple of minutes".
* Speakers: speaker id = the 4-digit actor field. Gender (and age, race, ethnicity in ``meta``) comes from
  ``VideoDemographics.csv`` (header ``"ActorID","Age","Sex","Race","Ethnicity"``); without that file the
  gender is ``unknown``.
* Known broken files: ``1076_MTI_SAD_XX.wav`` has a normal duration but no signal (CREMA-D README); it is
  always skipped with reason "known silent file (CREMA-D README)". The MP3/FLV-only problems
  (``1064_IEO_DIS_MD``, ``1064_TIE_SAD_XX``, ``1076_MTI_NEU_XX``) do not affect the WAVs and are kept.
  Other silent files are judged later by the audio store's signal-level check, not here.
* ``meta``: sentence code, level, and the demographics columns when available.
* Fold protocols: ``crema_d_tfds`` (TFDS speaker-disjoint 70/10/20), ``crema_d_speaker5`` (5 speaker
  folds), ``speaker_kfold``.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import datasets

from hf_ser.audio import raise_if_lfs_pointer
from hf_ser.corpora._base import (
    Clip,
    CorpusInfo,
    SkipLog,
    SkippedFile,
    build_dataset,
    iter_files,
    require_root,
)
from hf_ser.corpora._labels import LabelSet

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="crema_d",
    title="CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset)",
    languages=("en",),
    labels=("anger", "disgust", "fear", "happiness", "neutral", "sadness"),
    license="ODbL 1.0 + DbCL 1.0",
    url="https://github.com/CheyneyComputerScience/CREMA-D",
    redistributable=False,
    protocols=("crema_d_tfds", "crema_d_speaker5", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happiness",
    "NEU": "neutral",
    "SAD": "sadness",
}
SENTENCES: dict[str, str] = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
LEVELS = frozenset({"LO", "MD", "HI", "XX"})
# Files whose WAV is unusable according to the corpus authors (README), by utt_id -> skip reason.
KNOWN_BROKEN: dict[str, str] = {"1076_MTI_SAD_XX": "known silent file (CREMA-D README)"}
_SEX = {"male": "male", "female": "female"}

EXPECTED_LAYOUT = (
    "AudioWAV/AAAA_SSS_EEE_LL.wav (e.g. AudioWAV/1001_DFA_ANG_XX.wav) somewhere under the root, "
    "optionally VideoDemographics.csv for speaker gender"
)

_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")


def load_crema_d(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load the CREMA-D ``AudioWAV`` clips.

    Args:
        root: the CREMA-D checkout (or any folder above ``AudioWAV/``).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.

    Returns:
        A dataset in the canonical schema.

    Raises:
        CorpusLayoutError: the root is missing or holds no ``AudioWAV/*.wav``.
        GitLfsPointerError: the WAVs are git-lfs pointers (checkout without LFS content).
    """
    path = require_root(root, "crema_d", EXPECTED_LAYOUT)
    demographics = _read_demographics(path)
    return build_dataset(
        "crema_d",
        path,
        _iter_items(path, demographics),
        label_set=label_set,
        label_map=label_map,
        skip_log=skip_log,
        expected=EXPECTED_LAYOUT,
    )


def _audio_dirs(root: Path) -> list[Path]:
    dirs = [root] if root.name == "AudioWAV" else []
    for p in sorted(root.rglob("AudioWAV")):
        parts = p.relative_to(root).parts
        # Same rule as iter_files: macOS zip debris is never audio.
        if p.is_dir() and not any(part.startswith("._") or part == "__MACOSX" for part in parts):
            dirs.append(p)
    return dirs


def _read_demographics(root: Path) -> dict[str, dict[str, Any]]:
    """Actor id (4-char string) -> demographics, from the first ``VideoDemographics.csv`` under ``root``."""
    csvs = list(iter_files(root, "VideoDemographics.csv"))
    if not csvs:
        logger.warning("crema_d: no VideoDemographics.csv under %s; speaker gender will be 'unknown'", root)
        return {}
    table: dict[str, dict[str, Any]] = {}
    with open(csvs[0], newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            actor = str(row.get("ActorID", "")).strip()
            if not actor:
                continue
            table[actor] = {
                "gender": _SEX.get(str(row.get("Sex", "")).strip().lower(), "unknown"),
                "age": row.get("Age", "").strip(),
                "race": row.get("Race", "").strip(),
                "ethnicity": row.get("Ethnicity", "").strip(),
            }
    return table


def _iter_items(root: Path, demographics: Mapping[str, Mapping[str, Any]]) -> Iterator[Clip | SkippedFile]:
    for audio_dir in _audio_dirs(root):
        for path in iter_files(audio_dir, "*.wav"):
            # Check every file: a partial `git lfs pull` can leave some pointers behind.
            raise_if_lfs_pointer(path)
            rel = path.relative_to(root).as_posix()
            match = _NAME.match(path.stem)
            if match is None:
                yield SkippedFile(rel, "unparseable file name (expected AAAA_SSS_EEE_LL.wav)")
                continue
            actor, sentence, emotion, level = match.groups()
            if level == "X":  # legacy name of 1040_ITH_SAD_XX in clones before 2022-10-18
                level = "XX"
            if emotion not in LABELS:
                yield SkippedFile(rel, f"unknown emotion code {emotion}")
                continue
            if sentence not in SENTENCES:
                yield SkippedFile(rel, f"unknown sentence code {sentence}")
                continue
            if level not in LEVELS:
                yield SkippedFile(rel, f"unknown level {level}")
                continue
            utt_id = f"{actor}_{sentence}_{emotion}_{level}"
            if utt_id in KNOWN_BROKEN:
                yield SkippedFile(rel, KNOWN_BROKEN[utt_id])
                continue
            person = demographics.get(actor, {})
            meta = {"sentence": sentence, "level": level}
            meta.update({k: v for k, v in person.items() if k != "gender"})
            yield Clip(
                path=path,
                utt_id=utt_id,
                emotion=LABELS[emotion],
                orig_label=emotion,
                speaker=actor,
                gender=person.get("gender", "unknown"),
                language="en",
                text=SENTENCES[sentence],
                meta=meta,
            )
