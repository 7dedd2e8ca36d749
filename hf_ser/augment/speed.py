"""Speed perturbation by resampling (tempo and pitch change together, as in Kaldi/ESPnet speed perturb)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hf_ser.audio import SAMPLE_RATE, resample

# Issa et al.'s replication uses 0.81 and 1.23; 0.9 / 1.0 / 1.1 is the ASR habit.
DEFAULT_FACTORS = (0.9, 1.0, 1.1)


def change_speed(wave: np.ndarray, factor: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Play ``wave`` ``factor`` times faster: ``(samples,)`` -> ``(round(samples / factor),)``.

    The clip is treated as if recorded at ``sample_rate * factor`` and resampled to ``sample_rate``.
    """
    if factor <= 0:
        raise ValueError(f"speed factor must be > 0, not {factor}")
    if factor == 1.0:
        return np.asarray(wave, dtype=np.float32).copy()
    return resample(np.asarray(wave, dtype=np.float32), int(round(sample_rate * factor)), sample_rate)


class SpeedPerturb:
    """Change the speed by a factor drawn uniformly from ``factors``.

    Args:
        factors: candidate speed factors (> 1 is faster and shorter).
        sample_rate: rate of the waveforms.
    """

    def __init__(self, factors: Sequence[float] = DEFAULT_FACTORS, *, sample_rate: int = SAMPLE_RATE):
        if not factors or any(f <= 0 for f in factors):
            raise ValueError(f"factors must be a non-empty list of positive numbers, not {factors!r}")
        self.factors = tuple(float(f) for f in factors)
        self.sample_rate = sample_rate

    def __call__(self, wave: np.ndarray, index: int, rng: np.random.Generator) -> np.ndarray:
        factor = self.factors[int(rng.integers(len(self.factors)))]
        return change_speed(wave, factor, self.sample_rate)
