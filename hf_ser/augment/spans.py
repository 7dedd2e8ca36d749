"""Word spans: the one record every aligner produces and word swap consumes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NON_WORD = re.compile(r"[^\w']+", flags=re.UNICODE)


@dataclass(frozen=True)
class WordSpan:
    """One word of a clip and where it is.

    Attributes:
        word: the word as the aligner wrote it (transcript spelling, or e.g. ``WHAT`` from a ``.wdseg``).
        start_s: start time in seconds from the start of the clip.
        end_s: end time in seconds (exclusive).
        score: alignment confidence in [0, 1] (mean CTC token probability) when the aligner has one, else
            ``None``; only scored spans can fall below a threshold.
    """

    word: str
    start_s: float
    end_s: float
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "start_s": self.start_s, "end_s": self.end_s, "score": self.score}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WordSpan:
        score = d.get("score")
        return cls(
            str(d["word"]), float(d["start_s"]), float(d["end_s"]), None if score is None else float(score)
        )


def normalize_word(word: str) -> str:
    """Lower-case ``word`` without punctuation and pronunciation-variant marks (``WHAT(2)`` -> ``what``)."""
    word = re.sub(r"\(\d+\)$", "", word.strip())
    return _NON_WORD.sub("", word).lower()


def normalize_text(text: str) -> list[str]:
    """Words of a transcript, normalised as by ``normalize_word``, empty ones dropped."""
    words = (normalize_word(w) for w in text.split())
    return [w for w in words if w]


def check_spans(
    spans: list[WordSpan], duration_s: float | None = None, tolerance_s: float = 0.02
) -> str | None:
    """Return why ``spans`` are unusable (empty, reversed, overlapping, outside the clip), or ``None``."""
    if not spans:
        return "no words"
    if spans[0].start_s < 0:
        return "span before clip start"
    prev_end = 0.0
    for span in spans:
        if span.end_s <= span.start_s:
            return f"empty or reversed span for {span.word!r}"
        if span.start_s < prev_end - 1e-6:
            return f"overlapping spans at {span.word!r}"
        prev_end = span.end_s
    if duration_s is not None and prev_end > duration_s + tolerance_s:
        return f"span past clip end ({prev_end:.2f} s > {duration_s:.2f} s)"
    return None
