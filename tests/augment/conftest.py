"""Synthetic clips for the augmentation tests: every clip is distinctive noise, so spliced-in samples can be
traced back to the clip they came from."""

from __future__ import annotations

import datasets
import numpy as np
import pytest

from hf_ser.augment.align import AlignmentCache
from hf_ser.augment.spans import WordSpan

SR = 16_000
STATEMENTS = ("Kids are talking by the door", "Dogs are sitting by the door")


def clip_wave(seed: int, seconds: float = 1.2) -> np.ndarray:
    """Distinctive noise clip ``(samples,)``; its level depends on the seed so loudness matching matters."""
    rng = np.random.default_rng(1000 + seed)
    return (0.05 + 0.02 * (seed % 7)) * rng.standard_normal(int(seconds * SR)).astype(np.float32)


def even_spans(text: str, seconds: float = 1.2, jitter: float = 0.0) -> list[WordSpan]:
    """One span per word, evenly spread with 20 ms gaps; ``jitter`` shifts boundaries per clip."""
    words = text.split()
    step = (seconds - 0.2) / len(words)
    return [
        WordSpan(w, 0.1 + i * step + jitter, 0.1 + (i + 1) * step - 0.02 + jitter)
        for i, w in enumerate(words)
    ]


def make_rows(n_per_cell: int = 3, labels=("anger", "sadness"), splits=("train",), speakers=("01", "02")):
    """Canonical-ish rows: every (split, label, statement, speaker) cell holds ``n_per_cell`` clips."""
    rows = []
    for split in splits:
        for label in labels:
            for statement in STATEMENTS:
                for speaker in speakers:
                    for r in range(n_per_cell):
                        utt = f"{split}-{label}-{STATEMENTS.index(statement)}-{speaker}-{r}"
                        rows.append(
                            {
                                "utt_id": utt,
                                "corpus": "ravdess",
                                "path": f"/data/{utt}.wav",
                                "label": label,
                                "speaker": speaker,
                                "text": statement,
                                "split": split,
                                "meta": "{}",
                            }
                        )
    return datasets.Dataset.from_list(rows)


def cache_for(rows: datasets.Dataset) -> AlignmentCache:
    """Alignments with slightly different word timings per clip."""
    spans = {}
    for i, row in enumerate(rows):
        jitter = 0.01 * (i % 4)
        spans[f"{row['corpus']}/{row['utt_id']}"] = even_spans(row["text"], jitter=jitter)
    return AlignmentCache(spans)


@pytest.fixture
def rows_factory():
    return make_rows


@pytest.fixture
def cache_factory():
    return cache_for


@pytest.fixture
def wave_of():
    return clip_wave
