"""URDU: an Urdu-language emotional speech corpus from talk shows (natural, not acted, speech).

Layout (GitHub siddiquelatif/URDU-Dataset)::

    <root>/Angry/SM4_F16_A068.wav
    <root>/Happy/...  <root>/Neutral/...  <root>/Sad/...

Only the file NAME is parsed (any depth accepted). Pattern ``SGX_FXX_EYY`` [verified: repository README]:

* ``S`` literal, ``G`` speaker gender ``M``/``F``, ``X`` speaker number -> speaker id ``SM4`` (the token as
  written: numbers may restart per gender, so the gender letter stays in the id).
* ``FXX``: file number for that speaker (``meta["file_number"]``).
* ``E``: emotion code, ``YY``: running number within the emotion (``meta["emotion_index"]``).

Labels: A anger, H happiness, N neutral, S sadness. Language ``ur``. 400 files, 100 per class, 44.1 kHz.

The clips are cut from Urdu TV talk shows, so they are spontaneous speech with studio background and
variable channel, unlike the acted corpora: expect a domain gap in cross-corpus work.

Speakers: the README says 38 (27 male, 11 female) [secondary] but the file names hold only 29 distinct ids.
License: research use only [secondary: repository README]. No transcripts.

Folds: ``urdu_emobox`` (EmoBox's speaker-dependent 25 % stratified split, clip for clip), ``speaker_kfold``.
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
    name="urdu",
    title="URDU: Urdu emotional speech from talk shows",
    languages=("ur",),
    labels=("anger", "happiness", "neutral", "sadness"),
    license="research use only (see the repository README)",
    url="https://github.com/siddiquelatif/URDU-Dataset",
    protocols=("urdu_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {"A": "anger", "H": "happiness", "N": "neutral", "S": "sadness"}
GENDERS: dict[str, str] = {"M": "male", "F": "female"}
EXPECTED = "Angry/ Happy/ Neutral/ Sad/ folders of SGX_FXX_EYY.wav files, e.g. Angry/SM4_F16_A068.wav"

_NAME = re.compile(r"^S([MF])(\d+)_F(\d+)_([AHNS])(\d+)$", re.IGNORECASE)


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        m = _NAME.match(path.stem)
        if m is None:
            yield SkippedFile(rel, "unparseable file name (expected SGX_FXX_EYY, e.g. SM4_F16_A068)")
            continue
        gender, number, file_number, code, index = m.groups()
        gender, code = gender.upper(), code.upper()
        yield Clip(
            path=path,
            utt_id=path.stem.upper(),
            emotion=LABELS[code],
            orig_label=code,
            speaker=f"S{gender}{int(number)}",
            gender=GENDERS[gender],
            language="ur",
            meta={"file_number": int(file_number), "emotion_index": int(index), "speech": "talk show"},
        )


def load_urdu(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load URDU from its distributed layout.

    Args:
        root: the folder holding ``Angry/``, ``Happy/``, ``Neutral/`` and ``Sad/``.
        label_set: label-set name or list of canonical labels.
        label_map: optional map from URDU codes (``"A"``) or canonical labels.
        skip_log: receives the file accounting.

    Returns:
        The canonical clip dataset.
    """
    return load_parsed(
        "urdu", root, _parse, expected=EXPECTED,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )
