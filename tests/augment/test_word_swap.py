import numpy as np
import pytest

from hf_ser.augment.spans import WordSpan
from hf_ser.augment.word_swap import DonorWord, WordSwap, splice_words

SR = 16_000
H = 80  # half of the default 10 ms cross-fade, in samples


def noise(seed, n=SR, scale=0.3):
    return (scale * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


REC_SPANS = [WordSpan("kids", 0.10, 0.30), WordSpan("are", 0.35, 0.60), WordSpan("talking", 0.70, 0.90)]
DON_SPANS = [WordSpan("dogs", 0.05, 0.20), WordSpan("are", 0.30, 0.65), WordSpan("sitting", 0.70, 0.80)]


def test_splice_puts_donor_samples_at_the_cut_and_recipient_elsewhere():
    rec, don = noise(1), noise(2)
    rec_copy = rec.copy()
    out = splice_words(rec, REC_SPANS, [(don, DON_SPANS, 1)], match_loudness=False)
    r0, r1, d0, d1 = 5600, 9600, 4800, 10400
    assert len(out) == len(rec) - (r1 - r0) + (d1 - d0)
    np.testing.assert_array_equal(out[: r0 - H], rec[: r0 - H])
    inserted_end = r0 + (d1 - d0)
    np.testing.assert_array_equal(out[r0 + H : inserted_end - H], don[d0 + H : d1 - H])
    np.testing.assert_array_equal(out[inserted_end + H :], rec[r1 + H :])
    # Inside the cross-fade the output is neither source alone.
    assert not np.allclose(out[r0 - H // 2 : r0 + H // 2], rec[r0 - H // 2 : r0 + H // 2])
    np.testing.assert_array_equal(rec, rec_copy)  # input untouched


def test_splice_matches_loudness_of_the_replaced_word():
    rec, don = noise(1, scale=0.1), noise(2, scale=0.5)
    out = splice_words(rec, REC_SPANS, [DonorWord(don, DON_SPANS, 1)], match_loudness=True)
    r0, r1, d0, d1 = 5600, 9600, 4800, 10400
    inserted = out[r0 + H : r0 + (d1 - d0) - H]
    gain = np.sqrt(np.mean(rec[r0:r1] ** 2)) / np.sqrt(np.mean(don[d0:d1] ** 2))
    np.testing.assert_allclose(inserted, gain * don[d0 + H : d1 - H], rtol=1e-5, atol=1e-7)
    assert np.sqrt(np.mean(inserted**2)) == pytest.approx(np.sqrt(np.mean(rec[r0:r1] ** 2)), rel=0.05)


def test_splice_two_donors_into_noun_and_verb_positions():
    rec, noun_donor, verb_donor = noise(1), noise(2), noise(3)
    out = splice_words(
        rec, REC_SPANS, [(noun_donor, DON_SPANS, 0), (verb_donor, DON_SPANS, 2)], match_loudness=False
    )
    # noun: recipient [1600, 4800) -> donor [800, 3200); verb: recipient [11200, 14400) -> donor [11200, 12800)
    noun_start = 1600
    np.testing.assert_array_equal(out[noun_start + H : noun_start + 2400 - H], noun_donor[800 + H : 3200 - H])
    shift = 2400 - 3200  # output is 800 samples earlier after the noun
    np.testing.assert_array_equal(out[4800 + shift + H : 11200 + shift - H], rec[4800 + H : 11200 - H])
    verb_start = 11200 + shift
    np.testing.assert_array_equal(
        out[verb_start + H : verb_start + 1600 - H], verb_donor[11200 + H : 12800 - H]
    )
    np.testing.assert_array_equal(out[verb_start + 1600 + H :], rec[14400 + H :])


def test_splice_rejects_two_donors_for_one_word():
    rec, don = noise(1), noise(2)
    with pytest.raises(ValueError, match="twice"):
        splice_words(rec, REC_SPANS, [(don, DON_SPANS, 1), (don, DON_SPANS, 0, 1)])


def _find(haystack, needle):
    """Offset of ``needle`` inside ``haystack`` (exact float match), or -1."""
    first = np.flatnonzero(haystack == needle[0])
    for i in first:
        if i + len(needle) <= len(haystack) and np.array_equal(haystack[i : i + len(needle)], needle):
            return int(i)
    return -1


def test_ravdess_mode_noun_and_verb_from_two_same_emotion_same_statement_donors(
    rows_factory, cache_factory, wave_of
):
    rows = rows_factory()
    cache = cache_factory(rows)
    swap = WordSwap(rows, wave_of, cache, mode="ravdess", match_loudness=False)
    rng = np.random.default_rng(0)
    for index in range(0, len(rows), 5):
        out = swap(wave_of(index), index, rng)
        noun_key, verb_key = swap.last_donors
        assert noun_key != verb_key
        recipient = rows[index]
        for key, word in ((noun_key, 0), (verb_key, 2)):
            j = swap.keys.index(key)
            assert j != index
            assert rows[j]["label"] == recipient["label"] and rows[j]["text"] == recipient["text"]
            span = cache.get(key)[word]
            a, b = int(round(span.start_s * SR)), int(round(span.end_s * SR))
            assert _find(out, wave_of(j)[a + H : b - H]) >= 0  # the donor's word is in the output
        # Words 1 and 3.. of the recipient are kept.
        rspan = cache.get(swap.keys[index])[3]
        a, b = int(round(rspan.start_s * SR)), int(round(rspan.end_s * SR))
        assert _find(out, wave_of(index)[a:b]) >= 0
    assert swap.stats["applied"] == len(range(0, len(rows), 5))


def test_general_mode_same_speaker_and_same_word(rows_factory, cache_factory, wave_of):
    rows = rows_factory()
    cache = cache_factory(rows)
    swap = WordSwap(rows, wave_of, cache, mode="general", k=2, speaker="same", statement="any")
    rng = np.random.default_rng(1)
    for index in range(len(rows)):
        swap(wave_of(index), index, rng)
        assert len(swap.last_donors) == 2
        for key in swap.last_donors:
            j = swap.keys.index(key)
            assert j != index
            assert rows[j]["label"] == rows[index]["label"] and rows[j]["speaker"] == rows[index]["speaker"]


def test_excluded_clips_are_not_swapped_nor_donors(rows_factory, cache_factory, wave_of):
    rows = rows_factory(n_per_cell=1)
    cache = cache_factory(rows)
    excluded = {swap_key for swap_key in list(cache.spans)[::2]}
    for key in excluded:
        cache.failures[key] = "low score (0.1 < 0.5)"
        del cache.spans[key]
    swap = WordSwap(rows, wave_of, cache, mode="general", statement="same")
    assert swap.excluded["low score"] == len(excluded)
    rng = np.random.default_rng(2)
    for index in range(len(rows)):
        wave = wave_of(index)
        out = swap(wave, index, rng)
        if swap.keys[index] in excluded:
            assert out is wave
        assert not set(swap.last_donors) & excluded
    assert swap.stats["skipped: no usable alignment"] == len(excluded)


def test_swap_is_reproducible_from_the_rng(rows_factory, cache_factory, wave_of):
    rows = rows_factory()
    cache = cache_factory(rows)
    swap = WordSwap(rows, wave_of, cache, mode="ravdess")
    a = [swap(wave_of(i), i, np.random.default_rng([7, i])) for i in range(6)]
    b = [swap(wave_of(i), i, np.random.default_rng([7, i])) for i in range(6)]
    c = [swap(wave_of(i), i, np.random.default_rng([8, i])) for i in range(6)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(len(x) == len(z) and np.array_equal(x, z) for x, z in zip(a, c))
