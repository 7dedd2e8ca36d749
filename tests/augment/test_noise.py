import numpy as np
import pytest

from hf_ser.augment.noise import AdditiveNoise, mix_at_snr

SR = 16_000


def measured_snr(clean, noisy):
    noise = noisy.astype(np.float64) - clean
    return 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise**2))


def speechlike(seed, n=SR):
    t = np.arange(n) / SR
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    return (0.2 * envelope * np.sin(2 * np.pi * (150 + 20 * seed) * t)).astype(np.float32)


@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
def test_white_noise_at_requested_snr(snr):
    clean = speechlike(0)
    noisy = AdditiveNoise(snr, kind="white")(clean, 0, np.random.default_rng(0))
    assert measured_snr(clean, noisy) == pytest.approx(snr, abs=0.05)


def test_snr_drawn_inside_the_range():
    clean = speechlike(0)
    aug = AdditiveNoise([10, 30], kind="white")
    rng = np.random.default_rng(3)
    snrs = [measured_snr(clean, aug(clean, 0, rng)) for _ in range(40)]
    assert 10 - 0.05 <= min(snrs) and max(snrs) <= 30 + 0.05
    assert max(snrs) - min(snrs) > 10  # really drawn, not fixed


def test_babble_uses_other_training_clips_at_requested_snr():
    waves = [speechlike(i, n=SR // 2 + 1000 * i) for i in range(6)]
    requested = []
    aug = AdditiveNoise(
        [5, 5], kind="babble", get_wave=lambda i: requested.append(i) or waves[i], num_rows=6, talkers=3
    )
    rng = np.random.default_rng(0)
    for index in range(6):
        requested.clear()
        clean = waves[index]
        noisy = aug(clean, index, rng)
        assert measured_snr(clean, noisy) == pytest.approx(5.0, abs=0.05)
        assert len(set(requested)) == 3 and index not in requested
        # The noise is made of the other clips: it has energy at their pitches, not just white noise.
        noise = noisy - clean
        spectrum = np.abs(np.fft.rfft(noise))
        freqs = np.fft.rfftfreq(len(noise), 1 / SR)
        donor_bins = [int(np.argmin(np.abs(freqs - (150 + 20 * j)))) for j in requested]
        assert all(spectrum[b] > 10 * np.median(spectrum) for b in donor_bins)


def test_silent_signal_is_left_alone():
    silent = np.zeros(100, dtype=np.float32)
    assert np.array_equal(mix_at_snr(silent, np.ones(100), 10.0), silent)
