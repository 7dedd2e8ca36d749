"""Additive noise at a signal-to-noise ratio drawn from a range: white noise, or babble made of other
TRAINING clips (the only clips the augmentation can reach)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

NOISE_KINDS = ("white", "babble")


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``signal + g * noise`` with ``g`` chosen so that ``10 log10(P_signal / P_noise) == snr_db``.

    Powers are means over the whole clip (pauses included). A silent signal or noise is returned unchanged.
    """
    s = np.asarray(signal, dtype=np.float64)
    n = np.asarray(noise, dtype=np.float64)
    p_signal, p_noise = float(np.mean(s * s)), float(np.mean(n * n))
    if p_signal <= 0 or p_noise <= 0:
        return np.asarray(signal, dtype=np.float32).copy()
    gain = np.sqrt(p_signal / (p_noise * 10.0 ** (snr_db / 10.0)))
    return (s + gain * n).astype(np.float32)


def _fit_length(wave: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``n``-sample excerpt of ``wave``, tiled first when it is shorter than ``n``."""
    wave = np.asarray(wave, dtype=np.float64)
    if wave.size == 0:
        return np.zeros(n)
    if wave.size < n:
        wave = np.tile(wave, int(np.ceil(n / wave.size)) + 1)
    start = int(rng.integers(wave.size - n + 1))
    return wave[start : start + n]


class AdditiveNoise:
    """Add noise at an SNR (dB) drawn uniformly from ``snr_db``.

    Args:
        snr_db: ``[low, high]`` range, or one number for a fixed SNR.
        kind: ``"white"`` (Gaussian) or ``"babble"`` (``talkers`` other training clips, each at equal RMS,
            random excerpts, summed).
        get_wave: waveform of training row ``i``; required for babble.
        num_rows: number of training rows (donor indices are ``range(num_rows)`` minus the clip itself).
        talkers: babble: how many clips are mixed.
    """

    def __init__(
        self,
        snr_db: float | Sequence[float] = (10.0, 30.0),
        *,
        kind: Literal["white", "babble"] = "white",
        get_wave: Callable[[int], np.ndarray] | None = None,
        num_rows: int = 0,
        talkers: int = 3,
    ):
        low, high = (
            (float(snr_db), float(snr_db)) if np.isscalar(snr_db) else (float(snr_db[0]), float(snr_db[-1]))
        )
        if low > high:
            raise ValueError(f"snr_db range must be [low, high], not {snr_db!r}")
        if kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind {kind!r}; choose one of {list(NOISE_KINDS)}")
        if kind == "babble" and (get_wave is None or num_rows < 2):
            raise ValueError("babble noise needs get_wave and at least 2 training rows")
        if talkers < 1:
            raise ValueError("talkers must be >= 1")
        self.low, self.high, self.kind = low, high, kind
        self.get_wave, self.num_rows, self.talkers = get_wave, num_rows, talkers
        self.last_donors: list[int] = []

    def noise(self, n: int, index: int, rng: np.random.Generator) -> np.ndarray:
        """Noise of ``n`` samples for training row ``index``."""
        if self.kind == "white":
            self.last_donors = []
            return rng.standard_normal(n)
        others = (
            np.delete(np.arange(self.num_rows), index)
            if 0 <= index < self.num_rows
            else np.arange(self.num_rows)
        )
        picks = rng.choice(others, size=min(self.talkers, others.size), replace=False)
        self.last_donors = [int(j) for j in picks]
        assert self.get_wave is not None
        babble = np.zeros(n)
        for j in self.last_donors:
            part = _fit_length(self.get_wave(j), n, rng)
            rms = np.sqrt(np.mean(part * part))
            if rms > 0:
                babble += part / rms  # equal level per talker, so no single voice dominates
        return babble

    def __call__(self, wave: np.ndarray, index: int, rng: np.random.Generator) -> np.ndarray:
        snr = float(rng.uniform(self.low, self.high)) if self.high > self.low else self.low
        return mix_at_snr(wave, self.noise(len(wave), index, rng), snr)
