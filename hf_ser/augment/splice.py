"""Random splicing: cut a clip in the middle of its pauses and put the pieces back in a random order.

Cuts fall in silence, so no cross-fade is needed and the length is unchanged. A clip with no internal pause
comes back as it was.
"""

from __future__ import annotations

import numpy as np

from hf_ser.audio import SAMPLE_RATE
from hf_ser.augment.pauses import pause_cuts


class RandomSplice:
    """Reorder the pause-separated pieces of a clip.

    Args:
        threshold_db: frames this far below the loudest frame are silent.
        min_pause_s: shortest silence that counts as a pause.
        sample_rate: rate of the waveforms.
    """

    def __init__(
        self, *, threshold_db: float = -35.0, min_pause_s: float = 0.12, sample_rate: int = SAMPLE_RATE
    ):
        self.threshold_db, self.min_pause_s, self.sample_rate = threshold_db, min_pause_s, sample_rate

    def pieces(self, wave: np.ndarray) -> list[np.ndarray]:
        """The clip cut at the middle of each pause (views, in order)."""
        cuts = pause_cuts(
            wave, self.sample_rate, threshold_db=self.threshold_db, min_pause_s=self.min_pause_s
        )
        bounds = [0, *cuts, len(wave)]
        return [wave[a:b] for a, b in zip(bounds, bounds[1:])]

    def __call__(self, wave: np.ndarray, index: int, rng: np.random.Generator) -> np.ndarray:
        pieces = self.pieces(wave)
        if len(pieces) < 2:
            return np.asarray(wave, dtype=np.float32).copy()
        order = rng.permutation(len(pieces))
        return np.concatenate([pieces[i] for i in order]).astype(np.float32)
