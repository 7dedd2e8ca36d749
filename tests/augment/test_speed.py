import numpy as np
import pytest

from hf_ser.augment.speed import SpeedPerturb, change_speed

SR = 16_000


def peak_hz(wave):
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return np.fft.rfftfreq(len(wave), 1 / SR)[int(np.argmax(spectrum))]


@pytest.mark.parametrize("factor", [0.81, 0.9, 1.1, 1.23])
def test_speed_changes_length_by_one_over_factor_and_scales_pitch(factor):
    t = np.arange(SR) / SR
    wave = (0.5 * np.sin(2 * np.pi * 400 * t)).astype(np.float32)
    out = change_speed(wave, factor)
    assert abs(len(out) - len(wave) / factor) <= 2
    assert peak_hz(out) == pytest.approx(400 * factor, rel=0.01)


def test_speed_perturb_draws_only_the_given_factors():
    wave = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    aug = SpeedPerturb([0.81, 1.0, 1.23])
    rng = np.random.default_rng(1)
    lengths = {len(aug(wave, 0, rng)) for _ in range(30)}
    assert lengths == {round(SR / 0.81), SR, round(SR / 1.23)}
    with pytest.raises(ValueError):
        SpeedPerturb([0.0])
