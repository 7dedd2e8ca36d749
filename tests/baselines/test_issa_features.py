import numpy as np
import pytest

from hf_ser.baselines.issa_features import (
    ISSA_FEATURE_SIZES,
    ISSA_NUM_FEATURES,
    IssaFeatureCache,
    issa_feature_slices,
    issa_features,
    waveform_key,
)

SR = 16_000


def _tone(freq_hz: float, seconds: float = 0.5, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    noise = 0.01 * np.random.default_rng(0).standard_normal(t.size)
    return (amplitude * np.sin(2 * np.pi * freq_hz * t) + noise).astype(np.float32)


def test_vector_is_193_in_the_documented_groups():
    assert ISSA_FEATURE_SIZES == {"mfcc": 40, "chroma": 12, "mel": 128, "contrast": 7, "tonnetz": 6}
    assert ISSA_NUM_FEATURES == 193
    slices = issa_feature_slices()
    assert slices["mfcc"] == slice(0, 40) and slices["tonnetz"] == slice(187, 193)
    vector = issa_features(_tone(440.0))
    assert vector.shape == (193,) and vector.dtype == np.float32
    assert np.isfinite(vector).all()


def test_silence_and_tone_differ_where_they_should():
    slices = issa_feature_slices()
    silence = issa_features(np.zeros(SR // 2, dtype=np.float32))
    tone = issa_features(_tone(440.0))
    assert np.isfinite(silence).all()  # chroma / tonnetz normalise by zero energy: no NaN may leak out
    assert silence[slices["mel"]].max() == pytest.approx(0.0, abs=1e-8)
    assert tone[slices["mel"]].max() > 1.0
    # The tone's mel energy sits in the band of 440 Hz: its strongest band is one of the low ones.
    assert int(np.argmax(tone[slices["mel"]])) < 40
    # Two pitches a fifth apart fall into different chroma bins.
    a4, e5 = issa_features(_tone(440.0)), issa_features(_tone(659.3))
    assert int(np.argmax(a4[slices["chroma"]])) != int(np.argmax(e5[slices["chroma"]]))


def test_cache_computes_each_clip_once_and_persists(tmp_path):
    wave, other = _tone(300.0), _tone(600.0)
    cache = IssaFeatureCache(tmp_path)
    first = cache.get(wave)
    again = cache.get(wave.copy())
    cache.get(other)
    assert cache.computed == 2 and len(cache) == 2
    np.testing.assert_array_equal(first, again)
    assert len(list(tmp_path.rglob("*.npy"))) == 2
    fresh = IssaFeatureCache(tmp_path)  # a new process: read from disk, compute nothing
    np.testing.assert_array_equal(fresh.get(wave), first)
    assert fresh.computed == 0


def test_waveform_key_changes_with_content_and_rate():
    wave = _tone(300.0)
    changed = wave.copy()
    changed[100] += 1e-3
    assert waveform_key(wave) == waveform_key(wave.copy())
    assert waveform_key(wave) != waveform_key(changed)
    assert waveform_key(wave, 16_000) != waveform_key(wave, 8_000)
