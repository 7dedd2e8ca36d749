"""Energy-based pause detection, shared by the pause aligner and random splicing.

A frame is silent when its RMS is ``threshold_db`` below the loudest frame of the clip (relative, so the
clip's recording level does not matter). Silent runs of at least ``min_pause_s`` inside the clip are pauses;
shorter dips (stop closures, within-word gaps) are not.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.025
HOP_S = 0.010


def frame_db(
    wave: np.ndarray, sample_rate: int, frame_s: float = FRAME_S, hop_s: float = HOP_S
) -> np.ndarray:
    """Frame RMS level in dB relative to the loudest frame.

    Returns:
        ``db: (frames,)``, 0 at the loudest frame, frame ``i`` covering samples ``[i*hop, i*hop + frame)``.
    """
    frame = max(1, int(round(frame_s * sample_rate)))
    hop = max(1, int(round(hop_s * sample_rate)))
    x = np.asarray(wave, dtype=np.float64)
    if x.size <= frame:
        return np.zeros(1)
    n_frames = 1 + (x.size - frame) // hop
    # Sum of squares per frame from one cumulative sum: O(samples) instead of O(samples * frame).
    csum = np.concatenate([[0.0], np.cumsum(x * x)])
    starts = np.arange(n_frames) * hop
    energy = (csum[starts + frame] - csum[starts]) / frame
    db = 10.0 * np.log10(np.maximum(energy, 1e-20))
    return db - db.max()


def speech_segments(
    wave: np.ndarray,
    sample_rate: int,
    *,
    threshold_db: float = -35.0,
    min_pause_s: float = 0.12,
    frame_s: float = FRAME_S,
    hop_s: float = HOP_S,
) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` of speech separated by pauses, leading and trailing silence excluded."""
    db = frame_db(wave, sample_rate, frame_s, hop_s)
    frame = max(1, int(round(frame_s * sample_rate)))
    hop = max(1, int(round(hop_s * sample_rate)))
    voiced = db >= threshold_db
    min_gap = max(1, int(np.ceil(min_pause_s / hop_s)))
    runs: list[list[int]] = []  # [first voiced frame, last voiced frame + 1]
    for i in np.flatnonzero(voiced):
        if runs and i - runs[-1][1] < min_gap:
            runs[-1][1] = i + 1  # gap too short to be a pause: same segment
        else:
            runs.append([int(i), int(i) + 1])
    n = len(wave)
    return [(min(a * hop, n), min((b - 1) * hop + frame, n)) for a, b in runs]


def pause_cuts(wave: np.ndarray, sample_rate: int, **kwargs: float) -> list[int]:
    """Sample positions in the middle of each pause between speech segments (see ``speech_segments``)."""
    segments = speech_segments(wave, sample_rate, **kwargs)
    return [(segments[i][1] + segments[i + 1][0]) // 2 for i in range(len(segments) - 1)]
