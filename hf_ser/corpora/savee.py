"""SAVEE: Surrey Audio-Visual Expressed Emotion database (English, British).

Corpus card
-----------
* Source: University of Surrey (registration), http://kahlan.eps.surrey.ac.uk/savee/. License: free for
  research after registration [secondary]. Not redistributable here.
* Audio: 480 WAV files, 44.1 kHz; 120 per speaker = 15 sentences x 6 emotions + 30 neutral.
* Layouts, both accepted:

  * original zip: ``AudioData/<speaker>/<emo><NN>.wav``, e.g. ``AudioData/DC/sa01.wav``. Here the speaker is
    only in the folder name, so it is taken from the parent folder, which must be one of DC, JE, JK, KL (the
    one exception to "parse file names only");
  * Kaggle repack, flat: ``<speaker>_<emo><NN>.wav``, e.g. ``JK_su15.wav`` (speaker from the file name).

  Regex on ``<speaker>_?<emo><NN>``: ``^(DC|JE|JK|KL)_?([a-z]{1,2})(\\d\\d)$``.
* Emotion codes -> canonical: a anger, d disgust, f fear, h happiness, n neutral, sa sadness, su surprise.
* Speakers: DC, JE, JK, KL, all male (gender-balanced evaluation is impossible).
* Text: TIMIT sentences (15 per emotion); the sentence list is not shipped in a parseable form, so ``text``
  is ``""``.
* Known broken files: none.
* ``meta``: sentence number.
* Fold protocols: ``savee_loso`` (4 speaker folds, EmoBox order JE, KL, DC, JK), ``savee_emobox`` (the same folds as EmoBox's clip lists), ``speaker_kfold``.
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
    name="savee",
    title="SAVEE (Surrey Audio-Visual Expressed Emotion)",
    languages=("en",),
    labels=("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"),
    license="research use after registration (University of Surrey)",
    url="http://kahlan.eps.surrey.ac.uk/savee/",
    redistributable=False,
    protocols=("savee_loso", "savee_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}
SPEAKERS = ("DC", "JE", "JK", "KL")

EXPECTED_LAYOUT = (
    "AudioData/<speaker>/<emo><NN>.wav (e.g. AudioData/DC/sa01.wav) or flat <speaker>_<emo><NN>.wav"
)

_FLAT = re.compile(r"^(DC|JE|JK|KL)_?([a-z]{1,2})(\d\d)$")
_NESTED = re.compile(r"^([a-z]{1,2})(\d\d)$")


def load_savee(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load SAVEE from the original per-speaker layout or the flat Kaggle repack.

    Args:
        root: the folder holding ``AudioData/`` (or the speaker folders, or the flat files).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.

    Returns:
        A dataset in the canonical schema.

    Raises:
        CorpusLayoutError: the root is missing or holds no WAV file.
    """
    return load_parsed(
        "savee", root, _iter_items, expected=EXPECTED_LAYOUT,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )


def _parse(path: Path) -> tuple[str, str, str] | None:
    """``(speaker, emotion code, sentence number)`` from a flat or nested SAVEE path, or ``None``."""
    flat = _FLAT.match(path.stem)
    if flat is not None:
        return flat.group(1), flat.group(2), flat.group(3)
    nested = _NESTED.match(path.stem)
    if nested is not None and path.parent.name in SPEAKERS:
        return path.parent.name, nested.group(1), nested.group(2)
    return None


def _iter_items(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        parsed = _parse(path)
        if parsed is None:
            yield SkippedFile(
                rel, "unparseable file name (expected <speaker>/<emo><NN>.wav or <speaker>_<emo><NN>.wav)"
            )
            continue
        speaker, emotion, number = parsed
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion code {emotion}")
            continue
        yield Clip(
            path=path,
            # One id for both layouts, so a tree holding both keeps a single copy.
            utt_id=f"{speaker}_{emotion}{number}",
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=speaker,
            gender="male",
            language="en",
            meta={"sentence": number},
        )
