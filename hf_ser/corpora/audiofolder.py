"""Hugging Face's AudioFolder layout: a folder of audio files labelled by folder name or by ``metadata.csv``.

Use it for your own recordings when they sit in folders named by emotion, as ``datasets.load_dataset("audiofolder",
data_dir=...)`` reads them.

Layouts (``root`` is the folder):

* labels from folder names: ``root/<label>/*.wav`` (any depth below the label folder), optionally under split
  folders: ``root/<split>/<label>/*.wav`` with ``<split>`` one of ``train``, ``valid`` / ``validation`` /
  ``dev``, ``test``. A file directly in ``root`` (or directly in a split folder) has no label and is skipped
  with that reason.
* labels from ``root/metadata.csv`` (or ``metadata.jsonl``): one row per clip with ``file_name`` (relative to
  ``root``), ``label``, optional ``speaker``, ``split``, ``gender``, ``valence`` / ``arousal`` / ``dominance``
  and any other column (into ``meta``), exactly the columns of ``hf_ser.corpora.manifest``. An audio file under
  ``root`` that ``metadata.csv`` does not list is skipped ("not listed in metadata.csv"); a listed file that is
  missing is skipped ("missing file").

Audio files: ``.wav``, ``.flac``, ``.ogg``, ``.mp3`` (case-insensitive; hidden files and ``__MACOSX`` left out,
as for every corpus). Labels are read as people write them (``happy``, ``Angry``, ``neu``: see
``hf_ser.corpora._labels.SPELLINGS``); a label that maps to nothing stops the load before any audio is read
unless ``label_map`` maps or drops it.

Speakers: AudioFolder has no speaker convention. Without a ``speaker`` column every clip is speaker
``"unknown"``, which is accepted when the data carries its own split (split folders or a ``split`` column) or
when the corpus entry says ``options: {speakers: unknown}``; otherwise the load is refused with that fix.

Accounting: every audio file found under ``root`` (plus every listed-but-missing row) counts as one found file:
used, skipped with a reason, or outside the label set. ``utt_id`` is the path relative to ``root`` without its
suffix. License / source: those of your recordings.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import datasets

from hf_ser.corpora._base import (
    Clip,
    CorpusInfo,
    CorpusLayoutError,
    SkipLog,
    SkippedFile,
    build_dataset,
    iter_files,
    require_root,
)
from hf_ser.corpora._labels import CANONICAL_LABELS, LabelSet
from hf_ser.corpora.manifest import NO_SPEAKERS_FIX, SPEAKERS, NoSpeakersError, clips_from_records

INFO = CorpusInfo(
    name="audiofolder",
    title="Your own recordings in Hugging Face's AudioFolder layout (label folders or metadata.csv)",
    languages=(),
    labels=CANONICAL_LABELS,
    license="that of your recordings",
    url="https://huggingface.co/docs/datasets/audio_dataset#audiofolder",
    protocols=("predefined", "speaker_kfold"),
)

AUDIO_PATTERNS = ("*.wav", "*.flac", "*.ogg", "*.mp3")
METADATA_NAMES = ("metadata.csv", "metadata.jsonl")
# Split folder names as AudioFolder and the ``predefined`` protocol read them.
SPLIT_FOLDERS = ("train", "valid", "validation", "dev", "test")
EXPECTED = (
    "a folder of label folders (root/<label>/*.wav, optionally root/<split>/<label>/*.wav) or of audio files "
    "listed in root/metadata.csv (columns file_name, label; optional speaker, split, ...)"
)


def _audio_files(root: Path) -> list[Path]:
    return sorted({p for pattern in AUDIO_PATTERNS for p in iter_files(root, pattern)})


def _metadata_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("file_name", "label") if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusLayoutError(f"audiofolder: {path.name} lacks columns {missing}. Expected: {EXPECTED}")
            for line, row in enumerate(reader, start=2):
                yield f"{path.name}:line {line}", {k: v for k, v in row.items() if k is not None}
        return
    with open(path, encoding="utf-8-sig") as f:
        for line, text in enumerate(f, start=1):
            if text.strip():
                record = json.loads(text)
                if not isinstance(record, dict) or "file_name" not in record:
                    raise CorpusLayoutError(f"audiofolder: {path.name}:line {line} has no file_name. Expected: {EXPECTED}")
                yield f"{path.name}:line {line}", record


def _from_metadata(root: Path, metadata: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[SkippedFile]]:
    """Records of the listed files (``path`` = ``file_name``) and the audio files the metadata does not list."""
    records = []
    listed: set[Path] = set()
    for ref, row in _metadata_rows(metadata):
        record = {k: v for k, v in row.items() if k != "file_name"}
        record["path"] = row.get("file_name") or ""
        records.append((ref, record))
        if record["path"]:
            listed.add((root / str(record["path"])).resolve())
    unlisted = [
        SkippedFile(p.relative_to(root).as_posix(), f"not listed in {metadata.name}")
        for p in _audio_files(root)
        if p.resolve() not in listed
    ]
    return records, unlisted


def _from_folders(root: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[SkippedFile]]:
    """Records labelled by the first folder below ``root`` (or below a split folder)."""
    records, unlabelled = [], []
    for p in _audio_files(root):
        parts = p.relative_to(root).parts
        split = parts[0] if len(parts) >= 2 and parts[0].lower() in SPLIT_FOLDERS else ""
        folders = parts[1:-1] if split else parts[:-1]
        rel = p.relative_to(root).as_posix()
        if not folders:
            unlabelled.append(SkippedFile(rel, "no label folder (expected root/<label>/file)"))
            continue
        records.append((rel, {"path": rel, "label": folders[0], "split": split}))
    return records, unlabelled


def load_audiofolder(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    speakers: str = "column",
    corpus_name: str = "audiofolder",
) -> datasets.Dataset:
    """Load recordings laid out as Hugging Face's AudioFolder (see the module docstring).

    Args:
        root: the folder.
        label_set: label-set name or list of canonical labels.
        label_map: map from your labels to canonical labels, or to ``None`` to drop them.
        skip_log: receives the file accounting.
        speakers: ``column`` (speakers from ``metadata.csv``; without them the data must carry its split) or
            ``unknown`` (accept that no clip names its speaker).
        corpus_name: value of the ``corpus`` column.

    Raises:
        CorpusLayoutError: ``root`` is missing, holds no audio, or names no speakers and no split.
        UnknownLabelsError: a label that maps to nothing (before any audio is read).
    """
    path = require_root(root, "audiofolder", EXPECTED)
    if speakers not in SPEAKERS:
        raise CorpusLayoutError(f"audiofolder: options.speakers must be one of {list(SPEAKERS)}, got {speakers!r}")
    found = [path / name for name in METADATA_NAMES if (path / name).is_file()]
    if len(found) > 1:
        raise CorpusLayoutError(f"audiofolder: {path} holds both {list(METADATA_NAMES)}; keep one")
    records, skipped = _from_metadata(path, found[0]) if found else _from_folders(path)
    has_speakers = any(str(r.get("speaker") or "").strip() for _, r in records)
    has_split = any(str(r.get("split") or "").strip() for _, r in records)
    if records and speakers == "column" and not has_speakers and not has_split:
        raise NoSpeakersError(f"audiofolder: {path} names no speaker: {NO_SPEAKERS_FIX}")
    items: list[Clip | SkippedFile] = [*clips_from_records(records, path, label_map=label_map, corpus=corpus_name), *skipped]
    return build_dataset(
        corpus_name, path, items, label_set=label_set, label_map=label_map, skip_log=skip_log, expected=EXPECTED
    )
