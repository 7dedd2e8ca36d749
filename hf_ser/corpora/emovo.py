"""EMOVO: Italian emotional speech corpus.

Corpus card
-----------
* Source: EMOVO (Costantini et al., LREC 2014), distributed by Fondazione Ugo Bordoni. License: research
  use (unverified). Not redistributable here.
* Audio: 588 WAV files = 6 actors x 7 emotions x 14 sentences, 48 kHz.
* Layout: one folder per actor, ``f1/ f2/ f3/ m1/ m2/ m3/``, with files such as ``f1/dis-f1-b1.wav``. Some
  copies add a top-level folder; the loader takes every ``*.wav`` under the root and parses the file name
  only (case-insensitively).
* File name ``<emo>-<actor>-<sentence>.wav``.
* Emotion codes -> canonical: dis disgust, gio (gioia) happiness, neu neutral, pau (paura) fear,
  rab (rabbia) anger, sor (sorpresa) surprise, tri (tristezza) sadness.
* Speakers: f1, f2, f3 (female), m1, m2, m3 (male); gender is the first letter of the actor id. Ages
  (EmoBox): m1 30, m2 27, m3 30, f1 28, f2 23, f3 25.
* Sentences (the ``text`` column): b1 "Gli operai si alzano presto", b2 "I vigili sono muniti di pistola",
  b3 "La cascata fa molto rumore", l1 "L'autunno prossimo Tony partirà per la Spagna nella prima metà di
  ottobre", l2 "Ora prendo la felpa di là ed esco per fare una passeggiata", l3 "Un attimo dopo s'è
  incamminato ... ed è inciampato", l4 "Vorrei il numero telefonico del Signor Piatti", n1-n5 nonsense
  sentences, d1 "Sabato sera cosa farà?", d2 "Porti con te quella cosa?".
* Known broken files: none.
* ``meta``: sentence code.
* Fold protocols: ``emovo_loso`` (6 speaker folds, EmoBox order f2, m3, m2, f3, f1, m1), ``emovo_emobox`` (the same folds as EmoBox's clip lists), ``speaker_kfold``.
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
    name="emovo",
    title="EMOVO (Italian emotional speech)",
    languages=("it",),
    labels=("disgust", "happiness", "neutral", "fear", "anger", "surprise", "sadness"),
    license="research use (unverified)",
    url="http://voice.fub.it/activities/corpora/emovo/index.html",
    redistributable=False,
    protocols=("emovo_loso", "emovo_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "dis": "disgust",
    "gio": "happiness",
    "neu": "neutral",
    "pau": "fear",
    "rab": "anger",
    "sor": "surprise",
    "tri": "sadness",
}
SENTENCES: dict[str, str] = {
    "b1": "Gli operai si alzano presto",
    "b2": "I vigili sono muniti di pistola",
    "b3": "La cascata fa molto rumore",
    "l1": "L'autunno prossimo Tony partirà per la Spagna nella prima metà di ottobre",
    "l2": "Ora prendo la felpa di là ed esco per fare una passeggiata",
    "l3": "Un attimo dopo s'è incamminato ... ed è inciampato",
    "l4": "Vorrei il numero telefonico del Signor Piatti",
    "n1": "La casa forte vuole col pane",
    "n2": "La forza trova il passo e l'aglio rosso",
    "n3": "Il gatto sta scorrendo nella pera",
    "n4": "Insalata pastasciutta coscia d'agnello limoncello",
    "n5": "Uno quarantatré dieci mille cinquantasette venti",
    "d1": "Sabato sera cosa farà?",
    "d2": "Porti con te quella cosa?",
}
_GENDERS = {"f": "female", "m": "male"}

EXPECTED_LAYOUT = "<actor>/<emo>-<actor>-<sentence>.wav (e.g. f1/dis-f1-b1.wav) for actors f1-f3, m1-m3"

_NAME = re.compile(r"^([a-z]{3})-([fm][1-3])-([a-z]\d)$")


def load_emovo(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load EMOVO.

    Args:
        root: the folder holding the actor folders ``f1/ ... m3/``.
        label_set: label-set name or list of canonical labels.
        label_map: optional user map applied before the label set.
        skip_log: receives found/used/skipped counts.

    Returns:
        A dataset in the canonical schema.

    Raises:
        CorpusLayoutError: the root is missing or holds no WAV file.
    """
    return load_parsed(
        "emovo", root, _iter_items, expected=EXPECTED_LAYOUT,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )


def _iter_items(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        match = _NAME.match(path.stem.lower())
        if match is None:
            yield SkippedFile(rel, "unparseable file name (expected <emo>-<actor>-<sentence>.wav)")
            continue
        emotion, actor, sentence = match.groups()
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion code {emotion}")
            continue
        if sentence not in SENTENCES:
            yield SkippedFile(rel, f"unknown sentence code {sentence}")
            continue
        yield Clip(
            path=path,
            utt_id=f"{emotion}-{actor}-{sentence}",
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=actor,
            gender=_GENDERS[actor[0]],
            language="it",
            text=SENTENCES[sentence],
            meta={"sentence": sentence},
        )
