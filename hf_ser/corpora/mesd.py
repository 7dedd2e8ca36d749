"""MESD: Mexican Emotional Speech Database (Mexican Spanish, single words).

Layout (Mendeley Data cy34mh68j9): one flat folder of WAVs, e.g.
``Mexican Emotional Speech Database (MESD)/Neutral_M_B_chulo.wav``. Any folder depth is accepted; only the
file NAME is parsed.

Filename ``<Emotion>_<Voice>_<Corpus>_<word>.wav``, split with ``split("_", 3)`` because the word itself
may contain ``_``:

* Emotion: Anger, Disgust, Fear, Happiness, Neutral, Sadness (matched case-insensitively).
* Voice: ``F`` adult female, ``M`` adult male, ``C`` child [the meaning of C is unverified]. Child voices
  get gender ``"unknown"`` and ``meta["voice"] = "child"``.
* Corpus: ``A`` or ``B`` (two word lists), kept in ``meta["word_corpus"]``.
* word: the single Spanish word spoken; it is the ``text``.

Speakers: individual speakers are not coded anywhere in the distribution, so ``speaker`` is the voice group
(``F``, ``M``, ``C``). A ``speaker_kfold`` split therefore has only 3 groups and is not speaker-independent
in the strict sense; ``mesd_emobox`` is EmoBox's speaker-dependent 25 % stratified split, clip for clip.

Labels map one to one: Anger anger, Disgust disgust, Fear fear, Happiness happiness, Neutral neutral,
Sadness sadness. Language ``es``. 48 kHz. 862 files (144 per voice x corpus, C_A has 142), 0.2-2.5 s each.

License: Mendeley Data record cy34mh68j9 [license text unverified]. Single words make it ill-suited to word
swap augmentation.
"""

from __future__ import annotations

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
    name="mesd",
    title="MESD: Mexican Emotional Speech Database",
    languages=("es",),
    labels=("anger", "disgust", "fear", "happiness", "neutral", "sadness"),
    license="unknown (Mendeley Data; check the record)",
    url="https://data.mendeley.com/datasets/cy34mh68j9",
    protocols=("mesd_emobox", "speaker_kfold"),
)

LABELS: dict[str, str] = {
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happiness",
    "neutral": "neutral",
    "sadness": "sadness",
}
# voice code -> (gender, voice description)
VOICES: dict[str, tuple[str, str]] = {
    "F": ("female", "adult female"),
    "M": ("male", "adult male"),
    "C": ("unknown", "child"),
}
EXPECTED = "a flat folder of <Emotion>_<Voice>_<Corpus>_<word>.wav files, e.g. Neutral_M_B_chulo.wav"


def _parse(root: Path) -> Iterator[Clip | SkippedFile]:
    for path in iter_files(root, "*.wav"):
        rel = path.relative_to(root).as_posix()
        parts = path.stem.split("_", 3)
        if len(parts) != 4 or not parts[3]:
            yield SkippedFile(rel, "unparseable file name (expected <Emotion>_<Voice>_<Corpus>_<word>)")
            continue
        emotion, voice, word_corpus, word = parts
        voice = voice.upper()
        if emotion.lower() not in LABELS:
            yield SkippedFile(rel, f"unknown emotion {emotion!r} (expected one of {sorted(LABELS)})")
            continue
        if voice not in VOICES:
            yield SkippedFile(rel, f"unknown voice code {voice!r} (expected F, M or C)")
            continue
        gender, voice_name = VOICES[voice]
        yield Clip(
            path=path,
            utt_id=path.stem,
            emotion=LABELS[emotion.lower()],
            orig_label=emotion,
            speaker=voice,
            gender=gender,
            language="es",
            text=word,
            meta={"voice": voice_name, "word_corpus": word_corpus.upper()},
        )


def load_mesd(
    root: str | Path,
    *,
    label_set: LabelSet = "all",
    label_map: Mapping[str, str | None] | None = None,
    skip_log: SkipLog | None = None,
) -> datasets.Dataset:
    """Load MESD from its distributed layout.

    Args:
        root: the folder holding the MESD WAVs (any depth).
        label_set: label-set name or list of canonical labels.
        label_map: optional map from MESD names (``"Sadness"``) or canonical labels to canonical labels or ``None``.
        skip_log: receives the file accounting.

    Returns:
        The canonical clip dataset.
    """
    return load_parsed(
        "mesd", root, _parse, expected=EXPECTED,
        label_set=label_set, label_map=label_map, skip_log=skip_log,
    )
