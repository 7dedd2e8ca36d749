"""Word swap: replace words of a clip by the same words spoken by same-emotion donors.

Two layers:

* ``splice_words`` is a pure function on waveforms and word spans: cut the recipient at its word boundaries,
  insert donor words with short equal-power cross-fades, optionally matching the inserted word's RMS to the
  replaced one.
* ``WordSwap`` picks the donors from the training rows it was built with (the leakage guard: nothing else is
  reachable) and calls ``splice_words``.

Modes:

* ``"ravdess"``: faithful to the original recipe. For RAVDESS's statements "Kids are talking by the door" /
  "Dogs are sitting by the door", the noun (word 0) and the verb (word 2) are replaced by those of two
  different random donors with the same emotion and the same statement (one donor for the noun, another for
  the verb). The probability (0.5 in the original) is the step's ``p``.
* ``"general"``: ``k`` random words are replaced, each by the same word (normalised spelling) from a
  same-emotion donor, else by the word at the same position; donors may be restricted to the same speaker
  and/or the same statement.

All randomness comes from the ``rng`` passed in, so a seeded generator reproduces a swap exactly.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from hf_ser.audio import SAMPLE_RATE
from hf_ser.augment._rows import columns
from hf_ser.augment.spans import WordSpan, normalize_text, normalize_word
from hf_ser.corpora import clip_key

if TYPE_CHECKING:
    import datasets

    from hf_ser.augment.align import AlignmentCache

logger = logging.getLogger(__name__)

# Loudness matching is capped at +-20 dB so that a near-silent (badly aligned) donor word is not blown up
# into a burst of amplified noise.
MAX_GAIN = 10.0
MODES = ("ravdess", "general")


class DonorWord(NamedTuple):
    """One word to insert.

    Attributes:
        wave: the donor clip, ``(samples,)`` at the recipient's rate.
        spans: the donor's word spans.
        word_index: which donor word to take.
        target_index: which recipient word it replaces; ``None`` means the same index as ``word_index``
            (so a plain 3-tuple ``(wave, spans, i)`` swaps word ``i`` for word ``i``).
    """

    wave: np.ndarray
    spans: Sequence[WordSpan]
    word_index: int
    target_index: int | None = None


def _span_samples(span: WordSpan, n: int, sample_rate: int) -> tuple[int, int]:
    a = min(max(int(round(span.start_s * sample_rate)), 0), n)
    b = min(max(int(round(span.end_s * sample_rate)), 0), n)
    return a, b


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _join(segments: list[tuple[np.ndarray, int, int, float]], half: int) -> np.ndarray:
    """Concatenate ``src[a:b] * gain`` segments with equal-power cross-fades of ``2 * half`` samples.

    Each joint fades over the ``half`` samples either side of both cuts (each side reads ``half`` samples
    beyond its cut), so the output length is exactly ``sum(b - a)`` and every sample further than ``half``
    from a joint is an untouched (gain-scaled) source sample.
    """
    n = len(segments)
    halves = []
    for (src_a, a0, b0, _), (_src_b, a1, b1, _) in zip(segments, segments[1:]):
        halves.append(max(0, min(half, len(src_a) - b0, a1, (b0 - a0) // 2, (b1 - a1) // 2)))
    out = np.zeros(sum(b - a for _, a, b, _ in segments), dtype=np.float32)
    pos = 0
    for k, (src, a, b, gain) in enumerate(segments):
        pre = halves[k - 1] if k > 0 else 0
        post = halves[k] if k < n - 1 else 0
        piece = np.asarray(src[a - pre : b + post], dtype=np.float32) * np.float32(gain)
        if pre:
            t = (np.arange(2 * pre) + 0.5) / (2 * pre)
            piece[: 2 * pre] *= np.sin(0.5 * np.pi * t).astype(np.float32)
        if post:
            t = (np.arange(2 * post) + 0.5) / (2 * post)
            piece[-2 * post :] *= np.cos(0.5 * np.pi * t).astype(np.float32)
        out[pos - pre : pos - pre + len(piece)] += piece
        pos += b - a
    return out


def splice_words(
    recipient: np.ndarray,
    recipient_spans: Sequence[WordSpan],
    donors: Sequence[DonorWord | tuple],
    *,
    crossfade_ms: float = 10.0,
    match_loudness: bool = True,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Replace recipient words by donor words.

    Args:
        recipient: ``(samples,)`` waveform; never modified.
        recipient_spans: its word spans.
        donors: ``DonorWord`` records or tuples ``(wave, spans, word_index[, target_index])``.
        crossfade_ms: length of the equal-power cross-fade centred on each cut.
        match_loudness: scale each inserted word to the RMS of the word it replaces (gain capped at
            ``MAX_GAIN`` either way).
        sample_rate: rate of all waveforms.

    Returns:
        ``(samples',)`` float32; the length changes by the donor/recipient word length differences.

    Raises:
        ValueError: an index outside the spans, an empty span, or two donors for the same recipient word.
    """
    replacements = []
    for donor in donors:
        d = DonorWord(*donor)
        target = d.word_index if d.target_index is None else d.target_index
        if not (0 <= target < len(recipient_spans)) or not (0 <= d.word_index < len(d.spans)):
            raise ValueError(f"word index out of range (target {target}, donor word {d.word_index})")
        r0, r1 = _span_samples(recipient_spans[target], len(recipient), sample_rate)
        d0, d1 = _span_samples(d.spans[d.word_index], len(d.wave), sample_rate)
        if r1 <= r0 or d1 <= d0:
            raise ValueError(f"empty word span (recipient word {target} or donor word {d.word_index})")
        gain = 1.0
        if match_loudness:
            donor_rms = _rms(np.asarray(d.wave[d0:d1]))
            if donor_rms > 1e-8:
                gain = float(np.clip(_rms(np.asarray(recipient[r0:r1])) / donor_rms, 1 / MAX_GAIN, MAX_GAIN))
        replacements.append((r0, r1, d.wave, d0, d1, gain, target))
    replacements.sort(key=lambda r: r[0])
    for prev, nxt in zip(replacements, replacements[1:]):
        if prev[6] == nxt[6] or nxt[0] < prev[1]:
            raise ValueError(f"recipient words {prev[6]} and {nxt[6]} overlap or are replaced twice")
    segments: list[tuple[np.ndarray, int, int, float]] = []
    pos = 0
    for r0, r1, wave, d0, d1, gain, _ in replacements:
        if r0 > pos:
            segments.append((recipient, pos, r0, 1.0))
        segments.append((wave, d0, d1, gain))
        pos = r1
    if pos < len(recipient):
        segments.append((recipient, pos, len(recipient), 1.0))
    if not segments:
        return np.asarray(recipient, dtype=np.float32).copy()
    return _join(segments, int(round(crossfade_ms * sample_rate / 1000 / 2)))


class WordSwap:
    """Word-swap augmentation over one fold's training rows.

    Args:
        train_rows: the training split only (canonical columns ``utt_id``, ``corpus``, ``label``, ``speaker``,
            ``text``); donors are drawn from these rows and nowhere else.
        get_wave: 16 kHz waveform of training row ``i``.
        alignments: word spans by clip key; clips it excludes are neither swapped nor donors.
        mode: ``"ravdess"`` or ``"general"`` (see the module docstring).
        k: general mode: number of words replaced per clip.
        speaker: ``"any"`` or ``"same"``: may the donor be another speaker?
        statement: ``"any"`` or ``"same"``: must the donor say the same sentence (same normalised text)?
            The RAVDESS mode always uses ``"same"``.
        noun_index, verb_index: RAVDESS mode: the words replaced (0 and 2 in "Kids are talking by the door").
        crossfade_ms, match_loudness: passed to ``splice_words``.
        sample_rate: rate of the waveforms.

    ``stats`` counts applied swaps and why others were skipped; ``last_donors`` holds the clip keys of the
    donors used by the latest call (for reports and leakage checks).
    """

    def __init__(
        self,
        train_rows: datasets.Dataset | Sequence[dict],
        get_wave: Callable[[int], np.ndarray],
        alignments: AlignmentCache,
        *,
        mode: Literal["ravdess", "general"] = "ravdess",
        k: int = 1,
        speaker: Literal["any", "same"] = "any",
        statement: Literal["any", "same"] | None = None,
        noun_index: int = 0,
        verb_index: int = 2,
        crossfade_ms: float = 10.0,
        match_loudness: bool = True,
        sample_rate: int = SAMPLE_RATE,
    ):
        if mode not in MODES:
            raise ValueError(f"unknown word-swap mode {mode!r}; choose one of {list(MODES)}")
        if speaker not in ("any", "same"):
            raise ValueError(f"speaker must be 'any' or 'same', not {speaker!r}")
        statement = "same" if mode == "ravdess" else (statement or "any")
        if statement not in ("any", "same"):
            raise ValueError(f"statement must be 'any' or 'same', not {statement!r}")
        if k < 1:
            raise ValueError("k must be >= 1")
        self.mode, self.k, self.speaker, self.statement = mode, k, speaker, statement
        self.noun_index, self.verb_index = noun_index, verb_index
        self.crossfade_ms, self.match_loudness, self.sample_rate = crossfade_ms, match_loudness, sample_rate
        self.get_wave = get_wave
        cols = columns(
            train_rows,
            ["corpus", "utt_id", "label", "speaker", "text"],
            required=["corpus", "utt_id", "label"],
        )
        self.keys = [clip_key(c, u) for c, u in zip(cols["corpus"], cols["utt_id"])]
        self.stats: Counter[str] = Counter()
        self.excluded: Counter[str] = Counter()  # training clips unusable for swapping, by reason
        self.last_donors: list[str] = []
        self._spans: list[list[WordSpan] | None] = []
        self._group: list[tuple[str, ...]] = []
        self._pools: dict[tuple[str, ...], list[int]] = {}
        # (group, normalised word) -> [(row, word index)] for the "same word" look-up of the general mode.
        self._word_index: dict[tuple[tuple[str, ...], str], list[tuple[int, int]]] = {}
        for i, key in enumerate(self.keys):
            spans = alignments.get(key)
            if spans is None:
                self.excluded[(alignments.exclusion_reason(key) or "").split(" (")[0]] += 1
            elif mode == "ravdess" and not self._fits_statement(spans, cols["text"][i]):
                self.excluded["alignment does not match the statement"] += 1
                spans = None
            self._spans.append(spans)
            statement_key = " ".join(normalize_text(cols["text"][i])) if statement == "same" else ""
            group = (cols["label"][i], cols["speaker"][i] if speaker == "same" else "", statement_key)
            self._group.append(group)
            if spans is None:
                continue
            self._pools.setdefault(group, []).append(i)
            if mode == "general":
                for w, span in enumerate(spans):
                    self._word_index.setdefault((group, normalize_word(span.word)), []).append((i, w))
        if self.excluded:
            logger.info(
                "word swap: %d training clips unusable: %s", sum(self.excluded.values()), dict(self.excluded)
            )

    def _fits_statement(self, spans: Sequence[WordSpan], text: str) -> bool:
        words = normalize_text(text)
        return len(spans) == len(words) and max(self.noun_index, self.verb_index) < len(spans)

    def donor_pool(self, index: int) -> list[int]:
        """Training rows that may give words to row ``index`` (same group, aligned, not itself)."""
        return [j for j in self._pools.get(self._group[index], []) if j != index]

    def __call__(self, wave: np.ndarray, index: int, rng: np.random.Generator) -> np.ndarray:
        """Swap words of training row ``index`` (whose full, unmodified waveform is ``wave``).

        Returns ``wave`` itself when the clip is excluded or has no donor (counted in ``stats``).
        """
        self.last_donors = []
        spans = self._spans[index]
        if spans is None:
            self.stats["skipped: no usable alignment"] += 1
            return wave
        if spans[-1].end_s * self.sample_rate > len(wave) + 0.02 * self.sample_rate:
            # The spans describe the stored clip; a cropped or time-stretched wave would be cut at wrong places.
            self.stats["skipped: wave shorter than its alignment"] += 1
            return wave
        donors = (
            self._ravdess_donors(index, rng) if self.mode == "ravdess" else self._general_donors(index, rng)
        )
        if not donors:
            self.stats["skipped: no donor"] += 1
            return wave
        self.stats["applied"] += 1
        return splice_words(
            wave,
            spans,
            [d for d, _ in donors],
            crossfade_ms=self.crossfade_ms,
            match_loudness=self.match_loudness,
            sample_rate=self.sample_rate,
        )

    def _donor(self, row: int, word: int, target: int) -> tuple[DonorWord, str]:
        self.last_donors.append(self.keys[row])
        spans = self._spans[row]
        assert spans is not None  # pools only hold aligned rows
        return DonorWord(self.get_wave(row), spans, word, target), self.keys[row]

    def _ravdess_donors(self, index: int, rng: np.random.Generator) -> list[tuple[DonorWord, str]]:
        pool = self.donor_pool(index)
        if len(pool) < 2:
            return []
        noun_row, verb_row = (pool[int(j)] for j in rng.choice(len(pool), size=2, replace=False))
        return [
            self._donor(noun_row, self.noun_index, self.noun_index),
            self._donor(verb_row, self.verb_index, self.verb_index),
        ]

    def _general_donors(self, index: int, rng: np.random.Generator) -> list[tuple[DonorWord, str]]:
        spans = self._spans[index]
        assert spans is not None
        group = self._group[index]
        targets = sorted(int(t) for t in rng.choice(len(spans), size=min(self.k, len(spans)), replace=False))
        donors = []
        for t in targets:
            same_word = [
                c for c in self._word_index.get((group, normalize_word(spans[t].word)), []) if c[0] != index
            ]
            if same_word:
                row, w = same_word[int(rng.integers(len(same_word)))]
            else:
                # No donor says this word: fall back to the word at the same position.
                by_position = [j for j in self.donor_pool(index) if t < len(self._spans[j] or [])]
                if not by_position:
                    continue
                row, w = by_position[int(rng.integers(len(by_position)))], t
            donors.append(self._donor(row, w, t))
        return donors
