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
* Crowd votes (the ``votes`` / ``n_raters`` / ``perceived_label`` columns, see ``hf_ser.corpora._votes``):
  ``processedResults/tabulatedVotes.csv`` (found by glob; the repository later moved it under
  ``data/InfoAndStats/``). One row per clip and stimulus type; the unnamed first column is the row name
  ``100000 * queryType + clipNum`` with queryType 1 voice only, 2 face only, 3 audio-visual (tabulateVotesV2.r);
  columns ``A, D, F, H, N, S`` are vote counts, ``fileName``, ``numResponses`` (raters), ``emoVote`` the majority
  letter, colon-joined on a tie (``"A:D"``, which loads as ``no_agreement``). Option ``votes``: ``"audio"``
  (default, queryType 1: what listeners heard, the "VoiceVote"), ``"audiovisual"`` (3) or ``"video"`` (2).
  Without ``tabulatedVotes.csv`` the perceived label comes from ``processedResults/summaryTable.csv``
  (``FileName``, ``VoiceVote``, ``FaceVote``, ``MultiModalVote``) and the votes stay empty. Clips with no vote
  row keep empty votes (counted in a warning); vote rows naming clips with no WAV are ignored.
* Fold protocols: ``crema_d_tfds`` (TFDS speaker-disjoint 70/10/20), ``crema_d_speaker5`` (5 speaker
  folds), ``crema_d_tfds_exact`` (TFDS's clip lists), ``crema_d_emobox`` (EmoBox's speaker-dependent
  split, clip for clip), ``speaker_kfold``.
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
from hf_ser.corpora._votes import NO_AGREEMENT

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="crema_d",
    title="CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset)",
    languages=("en",),
    labels=("anger", "disgust", "fear", "happiness", "neutral", "sadness"),
    license="ODbL 1.0 + DbCL 1.0",
    url="https://github.com/CheyneyComputerScience/CREMA-D",
    redistributable=False,
    protocols=("crema_d_tfds", "crema_d_tfds_exact", "crema_d_speaker5", "crema_d_emobox", "speaker_kfold"),
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
    "optionally VideoDemographics.csv for speaker gender and processedResults/tabulatedVotes.csv for crowd votes"
)
# Vote letters of the crowd tables -> canonical labels; ``votes`` option -> tabulatedVotes queryType and the
# summaryTable column of the same stimulus.
VOTE_LETTERS: dict[str, str] = {
    "A": "anger",
    "D": "disgust",
    "F": "fear",
    "H": "happiness",
    "N": "neutral",
    "S": "sadness",
}
VOTE_MODALITIES: dict[str, tuple[int, str]] = {
    "audio": (1, "VoiceVote"),
    "video": (2, "FaceVote"),
    "audiovisual": (3, "MultiModalVote"),
}

_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")


def load_crema_d(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    votes: str = "audio",
) -> datasets.Dataset:
    """Load the CREMA-D ``AudioWAV`` clips with the crowd votes of one stimulus type.

    Args:
        root: the CREMA-D checkout (or any folder above ``AudioWAV/``).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.
        votes: which crowd votes fill the vote columns: ``"audio"`` (voice only, default),
            ``"audiovisual"`` or ``"video"``.

    Returns:
        A dataset in the canonical schema; ``label`` is the acted (intended) emotion, ``perceived_label`` the
        crowd's majority.

    Raises:
        CorpusLayoutError: the root is missing or holds no ``AudioWAV/*.wav``.
        GitLfsPointerError: the WAVs are git-lfs pointers (checkout without LFS content).
    """
    if votes not in VOTE_MODALITIES:
        raise ValueError(f"crema_d: votes={votes!r}; choose one of {sorted(VOTE_MODALITIES)}")
    path = require_root(root, "crema_d", EXPECTED_LAYOUT)
    demographics = _read_demographics(path)
    crowd = read_crowd_votes(path, votes)
    return build_dataset(
        "crema_d",
        path,
        _iter_items(path, demographics, crowd),
        label_set=label_set,
        label_map=label_map,
        skip_log=skip_log,
        expected=EXPECTED_LAYOUT,
    )


def _audio_dirs(root: Path) -> list[Path]:
    dirs = [root] if root.name == "AudioWAV" else []
    for p in sorted(root.rglob("AudioWAV")):
        parts = p.relative_to(root).parts
        # Same rule as iter_files: hidden folders and macOS zip debris are not part of the corpus.
        if p.is_dir() and not any(part.startswith(".") or part == "__MACOSX" for part in parts):
            dirs.append(p)
    return dirs


def _read_demographics(root: Path) -> dict[str, dict[str, Any]]:
    """Actor id (4-char string) -> demographics, from the first ``VideoDemographics.csv`` under ``root``."""
    csvs = list(iter_files(root, "VideoDemographics.csv", dangling=False))
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


def _perceived(vote: str) -> str:
    """An ``emoVote`` / ``VoiceVote`` cell as a canonical label; a colon-joined tie is ``NO_AGREEMENT``."""
    letters = [v.strip() for v in vote.split(":") if v.strip()]
    if len(letters) > 1:
        return NO_AGREEMENT
    return VOTE_LETTERS.get(letters[0], "") if letters else ""


def read_crowd_votes(root: Path, modality: str = "audio") -> dict[str, tuple[dict[str, float], int, str]]:
    """Clip id -> (canonical label -> votes, raters, perceived label) for one stimulus type.

    Reads the first ``processedResults/tabulatedVotes.csv`` under ``root``; without it, the perceived labels of
    ``processedResults/summaryTable.csv`` (no counts). Empty when neither exists.
    """
    query_type, summary_column = VOTE_MODALITIES[modality]
    out: dict[str, tuple[dict[str, float], int, str]] = {}
    tables = [p for p in iter_files(root, "tabulatedVotes.csv", dangling=False) if p.parent.name == "processedResults"]
    if tables:
        with open(tables[0], newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            col = {name: i for i, name in enumerate(header)}
            for row in reader:
                if not row or not row[0].strip().isdigit() or int(row[0]) // 100000 != query_type:
                    continue
                counts = {VOTE_LETTERS[k]: float(row[col[k]]) for k in VOTE_LETTERS if k in col}
                raters = (
                    int(float(row[col["numResponses"]]))
                    if "numResponses" in col
                    else int(sum(counts.values()))
                )
                out[row[col["fileName"]].strip()] = (counts, raters, _perceived(row[col["emoVote"]]))
        return out
    summaries = [p for p in iter_files(root, "summaryTable.csv", dangling=False) if p.parent.name == "processedResults"]
    if summaries:
        with open(summaries[0], newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                name = (row.get("FileName") or "").strip()
                if name:
                    out[name] = ({}, 0, _perceived(row.get(summary_column) or ""))
    return out


def _iter_items(
    root: Path,
    demographics: Mapping[str, Mapping[str, Any]],
    crowd: Mapping[str, tuple[dict[str, float], int, str]] | None = None,
) -> Iterator[Clip | SkippedFile]:
    crowd = crowd or {}
    no_votes: list[str] = []
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
            # The legacy 1-char level is the vote tables' old spelling too.
            counts, raters, perceived = crowd.get(utt_id) or crowd.get(path.stem) or ({}, 0, "")
            if crowd and not perceived:
                no_votes.append(utt_id)
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
                votes=counts,
                n_raters=raters,
                perceived=perceived,
            )
    if no_votes:
        logger.warning("crema_d: %d clips have no crowd-vote row (e.g. %s)", len(no_votes), no_votes[0])
