"""Emozionalmente: crowd-sourced Italian emotional speech.

Layout (Zenodo 6569824; EmoBox's preprocessing script)::

    <root>/audio/1613655062436.wav          file name = upload timestamp, no metadata in it
    <root>/metadata/samples.csv             file_name, actor, sentence, emotion_expressed, ...
    <root>/metadata/users.csv               username, gender, age, ...

The file name carries nothing, so every clip is joined to ``samples.csv`` on its base name (a ``file_name``
given with a folder, or without ``.wav``, still matches) and the actor to ``users.csv`` on ``username``.
WAVs with no ``samples.csv`` row are skipped; rows with no WAV are counted in a warning. Both CSVs are
required: without them the corpus cannot be labelled, so their absence raises ``CorpusLayoutError``.

Labels (``emotion_expressed``, what the actor was asked to express): anger anger, disgust disgust, fear
fear, joy happiness, neutrality neutral, sadness sadness, surprise surprise; 986 clips each (6902).

Speakers: 431 crowd actors (``actor`` = ``username``); gender from ``users.csv`` (male/female, anything else
``"unknown"``), age in ``meta["age"]``. ``text`` is the read ``sentence``. Language ``it``.

Sample rates are mixed: 6752 files at 16 kHz, 150 at 44.1 kHz [verified: EmoBox]; each header is read.
License: Zenodo record 6569824 [license text unverified]. Home-recorded with consumer microphones, so
channel quality varies a lot.

Folds: ``emozionalmente_emobox`` (EmoBox's speaker-dependent 25 % stratified split, clip for clip), ``speaker_kfold``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

import datasets

from hf_ser.corpora._base import (
    Clip,
    CorpusInfo,
    CorpusLayoutError,
    SkipLog,
    SkippedFile,
    iter_files,
    load_parsed,
)
from hf_ser.corpora._labels import LabelSet

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="emozionalmente",
    title="Emozionalmente: crowd-sourced Italian emotional speech",
    languages=("it",),
    labels=("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"),
    license="unknown (Zenodo 6569824; check the record)",
    url="https://zenodo.org/record/6569824",
    protocols=("emozionalmente_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "joy": "happiness",
    "neutrality": "neutral",
    "sadness": "sadness",
    "surprise": "surprise",
}
GENDERS: dict[str, str] = {"male": "male", "m": "male", "female": "female", "f": "female"}
EXPECTED = "audio/<timestamp>.wav with metadata/samples.csv and metadata/users.csv"
SAMPLE_COLUMNS = ("file_name", "actor", "sentence", "emotion_expressed")


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise CorpusLayoutError(f"emozionalmente: {path} is missing. Expected: {EXPECTED}")
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusLayoutError(
                f"emozionalmente: {path.name} lacks columns {missing}. Expected: {EXPECTED}"
            )
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def _key(file_name: str) -> str:
    """Join key: the base name without extension (``audio/123.wav`` -> ``123``)."""
    return PurePosixPath(file_name.replace("\\", "/")).name.removesuffix(".wav")


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    samples = {_key(r["file_name"]): r for r in _read_csv(root / "metadata" / "samples.csv", SAMPLE_COLUMNS)}
    users = {r["username"]: r for r in _read_csv(root / "metadata" / "users.csv", ("username", "gender"))}
    matched = 0
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        row = samples.get(path.stem)
        if row is None:
            yield SkippedFile(rel, "no row in metadata/samples.csv")
            continue
        emotion = row["emotion_expressed"].lower()
        if emotion not in LABELS:
            yield SkippedFile(rel, f"unknown emotion_expressed {row['emotion_expressed']!r}")
            continue
        matched += 1
        user = users.get(row["actor"], {})
        meta = {k: v for k, v in row.items() if k not in SAMPLE_COLUMNS and v}
        if user.get("age"):
            meta["age"] = user["age"]
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=LABELS[emotion],
            orig_label=emotion,
            speaker=row["actor"],
            gender=GENDERS.get(user.get("gender", "").lower(), "unknown"),
            language="it",
            text=row["sentence"],
            meta=meta,
        )
    if matched < len(samples):
        logger.warning("emozionalmente: %d samples.csv rows have no audio file", len(samples) - matched)


def load_emozionalmente(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load Emozionalmente by joining its audio with ``metadata/samples.csv`` and ``metadata/users.csv``.

    Args:
        root: the corpus folder holding ``audio/`` and ``metadata/``.
        label_set: label-set name or list of canonical labels.
        label_map: optional map from ``emotion_expressed`` values (``"joy"``) or canonical labels.
        skip_log: receives the file accounting.

    Returns:
        The canonical clip dataset.

    Raises:
        CorpusLayoutError: the root, ``samples.csv`` or ``users.csv`` is missing or lacks required columns.
    """
    return load_parsed(
        "emozionalmente", root, _parse, expected=EXPECTED,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )
