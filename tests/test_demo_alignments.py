"""The committed word boundaries of the demo RAVDESS (hf_ser/demo_data/alignments/ravdess) fit the clips.

No espeak-ng is needed: these tests read the committed TextGrids and WAV files only
(``scripts/make_demo_alignments.py`` made them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hf_ser.audio import load_audio
from hf_ser.augment.align import AlignmentCache, TextGridAligner, utt_key
from hf_ser.augment.alignment_files import read_textgrid
from hf_ser.augment.word_swap import WordSwap
from hf_ser.corpora import load_corpus
from hf_ser.demo_data import DEMO_DATA_DIR, demo_root

ALIGNMENT_ROOT = DEMO_DATA_DIR / "alignments" / "ravdess"
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}  # corpora.md 1.2
NOUN, VERB = 0, 2
SIZE_BUDGET_BYTES = 300 * 1000


def _wavs() -> list[Path]:
    return sorted(demo_root("ravdess").rglob("*.wav"))


def _textgrid_of(wav: Path) -> Path:
    return ALIGNMENT_ROOT / wav.relative_to(demo_root("ravdess")).with_suffix(".TextGrid")


@pytest.fixture(scope="module")
def ravdess():
    dataset, _ = load_corpus("ravdess", demo_root("ravdess"))
    return dataset


def test_every_clip_has_a_textgrid_with_its_statement_words():
    wavs = _wavs()
    assert len(wavs) == 96
    files = sorted(p for p in ALIGNMENT_ROOT.rglob("*") if p.is_file())
    assert files == sorted(_textgrid_of(w) for w in wavs), "one TextGrid per clip, nothing else"
    for wav in wavs:
        spans = read_textgrid(_textgrid_of(wav), tier="words")
        statement = wav.name.split("-")[4]
        assert [s.word for s in spans] == STATEMENTS[statement].lower().split(), wav.name


def test_spans_are_ordered_non_empty_and_inside_the_clip():
    for wav in _wavs():
        duration = sf.info(str(wav)).duration
        spans = read_textgrid(_textgrid_of(wav), tier="words")
        for span in spans:
            assert 0.0 <= span.start_s < span.end_s <= duration + 1e-6, (wav.name, span)
        for a, b in zip(spans, spans[1:]):
            assert a.end_s <= b.start_s, (wav.name, a, b)
        # The words cover the speech: the first starts at the clip start, the last ends at the clip end
        # (the clips are trimmed to speech plus a 20 ms margin).
        assert spans[0].start_s == 0.0 and spans[-1].end_s == pytest.approx(duration, abs=1e-4), wav.name
        # Plausible word lengths for connected speech (espeak, 95-320 wpm): none shorter than 20 ms.
        assert min(s.end_s - s.start_s for s in spans) > 0.02, wav.name


def test_alignments_stay_small():
    size = sum(p.stat().st_size for p in ALIGNMENT_ROOT.rglob("*") if p.is_file())
    assert 0 < size < SIZE_BUDGET_BYTES


def test_textgrid_aligner_makes_every_demo_clip_usable(ravdess, tmp_path):
    cache = AlignmentCache.compute(
        ravdess, TextGridAligner(ALIGNMENT_ROOT), cache_dir=tmp_path, progress=False
    )
    assert cache.summary() == {"clips": 96, "usable": 96, "excluded": 0, "reasons": {}}
    # The JSON cache round-trips: a second compute reads the file instead of the TextGrids.
    again = AlignmentCache.compute(
        ravdess, TextGridAligner(ALIGNMENT_ROOT), cache_dir=tmp_path, progress=False
    )
    key = utt_key(ravdess[0]["corpus"], ravdess[0]["utt_id"])
    assert again.get(key) == cache.get(key)


def test_word_swap_changes_only_the_noun_and_the_verb(ravdess):
    # One (emotion, statement) group: same-emotion, same-statement donors, as RAVDESS mode requires.
    first = ravdess[0]
    group = [
        r for r in ravdess if r["label"] == first["label"] and r["text"] == first["text"]
    ]
    assert len(group) >= 3
    cache = AlignmentCache.compute(group, TextGridAligner(ALIGNMENT_ROOT), progress=False)
    waves = [load_audio(r["path"])[0] for r in group]
    swap = WordSwap(group, lambda i: waves[i], cache, mode="ravdess", crossfade_ms=10.0)
    recipient = waves[0]
    out = swap(recipient, 0, np.random.default_rng(0))
    assert swap.stats["applied"] == 1
    noun_donor, verb_donor = swap.last_donors
    assert noun_donor != verb_donor and utt_key(first["corpus"], first["utt_id"]) not in swap.last_donors

    sr = 16_000

    def samples(span):
        return int(round(span.start_s * sr)), int(round(span.end_s * sr))

    spans = cache.get(utt_key(first["corpus"], first["utt_id"]))
    n0, n1 = samples(spans[NOUN])
    v0, v1 = samples(spans[VERB])
    dn = np.subtract(*samples(cache.get(noun_donor)[NOUN])[::-1])
    dv = np.subtract(*samples(cache.get(verb_donor)[VERB])[::-1])
    assert len(out) == len(recipient) - (n1 - n0) - (v1 - v0) + dn + dv
    half = int(round(10.0 * sr / 1000 / 2))  # each cut cross-fades over half this either side
    # Outside the two replaced words (and the cross-fade margins) the audio is the recipient's, sample-exact.
    np.testing.assert_array_equal(out[: max(0, n0 - half)], recipient[: max(0, n0 - half)])
    shift = dn - (n1 - n0)  # "are" (between noun and verb) moves by the noun's change in length
    np.testing.assert_array_equal(out[n1 + shift + half : v0 + shift - half], recipient[n1 + half : v0 - half])
    tail_shift = shift + dv - (v1 - v0)
    np.testing.assert_array_equal(out[v1 + tail_shift + half :], recipient[v1 + half :])
    # ... and inside them it is another voice's word.
    noun_len = min(dn, n1 - n0) - 2 * half
    assert not np.array_equal(out[n0 + half : n0 + half + noun_len], recipient[n0 + half : n0 + half + noun_len])
    verb_len = min(dv, v1 - v0) - 2 * half
    verb_at = v0 + shift + half
    assert not np.array_equal(out[verb_at : verb_at + verb_len], recipient[v0 + half : v0 + half + verb_len])
