"""hf-ser predict on a tiny random model: files, folders, any rate/channels, long recordings, broken files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import write_corrupt, write_wav
from hub.tiny_run import LABELS, write_tiny_model

from hf_ser import cli
from hf_ser.predict import collect_audio_paths, predict_files


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def _bursts(seconds: float, sr: int, burst_s: float = 4.0, gap_s: float = 1.0, seed: int = 0) -> np.ndarray:
    """Noisy tone bursts separated by silent gaps: ``(samples,)``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    wave = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(n)
    in_gap = (t % (burst_s + gap_s)) >= burst_s
    wave[in_gap] = 0.0005 * rng.standard_normal(int(in_gap.sum()))
    return wave.astype(np.float32)


def test_short_files_are_labelled_whatever_their_format(model_dir, tmp_path):
    write_wav(tmp_path / "a" / "x.wav", sample_rate=48_000, seconds=1.0, channels=2)
    write_wav(tmp_path / "a" / "deeper" / "y.wav", sample_rate=22_050, seconds=2.0, freq_hz=440)
    sf.write(tmp_path / "a" / "z.flac", _bursts(3.0, 44_100), 44_100)
    (tmp_path / "a" / "notes.txt").write_text("not audio")
    results = predict_files(model_dir, [tmp_path / "a"], batch_size=2)
    assert [r.source.rsplit("/", 1)[-1] for r in results] == ["y.wav", "x.wav", "z.flac"]
    for r in results:
        assert r.error is None and r.label in LABELS and not r.segments
        assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
        assert r.label == max(r.probabilities, key=r.probabilities.get)
    assert results[0].duration_s == pytest.approx(2.0, abs=1e-3)


def test_batching_does_not_change_predictions(model_dir, tmp_path):
    files = [write_wav(tmp_path / f"{i}.wav", seconds=0.5 + 0.4 * i, freq_hz=150 + 90 * i, seed=i) for i in range(4)]
    one = predict_files(model_dir, files, batch_size=1)
    four = predict_files(model_dir, files, batch_size=4)
    for a, b in zip(one, four):
        assert a.label == b.label
        for lab in LABELS:
            assert a.probabilities[lab] == pytest.approx(b.probabilities[lab], abs=1e-3)


def test_three_minute_recording_gives_overlapping_windows_and_mean_logit_overall(model_dir, tmp_path):
    sr = 16_000
    path = tmp_path / "long.wav"
    sf.write(path, _bursts(180.0, sr), sr, subtype="PCM_16")
    (result,) = predict_files(model_dir, [path], window_s=10.0)
    assert result.error is None and result.duration_s == pytest.approx(180.0, abs=1e-3)
    segs = result.segments
    # 10-s windows every 5 s (50 % overlap), the last one ending at the end: 0, 5, ..., 170.
    assert [s.start_s for s in segs] == [5.0 * k for k in range(35)]
    assert all(s.end_s - s.start_s == pytest.approx(10.0) for s in segs)
    assert segs[-1].end_s == pytest.approx(180.0, abs=1e-3)
    # The recording's scores are the softmax of the mean window logits (log-probabilities differ from the
    # logits by a per-window constant, which the softmax removes).
    mean_log_p = np.mean([[np.log(max(s.probabilities[lab], 1e-12)) for lab in LABELS] for s in segs], axis=0)
    expected = np.exp(mean_log_p - mean_log_p.max())
    expected /= expected.sum()
    for lab, p in zip(LABELS, expected):
        assert result.probabilities[lab] == pytest.approx(p, abs=1e-3)
    assert result.label == LABELS[int(np.argmax(expected))]


def test_too_short_files_are_reported_per_file_and_the_rest_labelled(model_dir, tmp_path, capsys):
    # The tiny model's CNN (kernels 10, 4, 4; strides 5, 4, 4) needs 1 + 9 + 3 * 5 + 3 * 20 = 85 samples.
    tiny = tmp_path / "tiny.wav"
    sf.write(tiny, (0.3 * np.sin(np.arange(50) / 3)).astype(np.float32), 16_000)  # 50 samples, not silent
    just = tmp_path / "just.wav"
    sf.write(just, (0.3 * np.sin(np.arange(85) / 3)).astype(np.float32), 16_000)
    good = write_wav(tmp_path / "good.wav", seconds=1.0)
    assert cli.main(["predict", str(model_dir), str(tiny), str(just), str(good), "--json"]) == 0
    by_name = {r["source"].rsplit("/", 1)[-1]: r for r in json.loads(capsys.readouterr().out)}
    assert by_name["tiny.wav"]["error"].startswith("too short: 50 samples < 85")
    assert by_name["just.wav"]["label"] in LABELS and by_name["good.wav"]["label"] in LABELS


def test_unreadable_files_are_reported_not_fatal(model_dir, tmp_path, capsys):
    good = write_wav(tmp_path / "good.wav", seconds=1.0)
    bad = write_corrupt(tmp_path / "bad.wav")
    silent = write_wav(tmp_path / "silent.wav", kind="silence")
    code = cli.main(["predict", str(model_dir), str(good), str(bad), str(silent), str(tmp_path / "missing.wav"), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    by_name = {r["source"].rsplit("/", 1)[-1]: r for r in out}
    assert by_name["good.wav"]["label"] in LABELS and by_name["good.wav"]["error"] is None
    assert "unreadable" in by_name["bad.wav"]["error"]
    assert "silent" in by_name["silent.wav"]["error"]
    assert by_name["missing.wav"]["error"]


def test_exit_code_is_1_when_nothing_worked(model_dir, tmp_path, capsys):
    bad = write_corrupt(tmp_path / "bad.wav")
    assert cli.main(["predict", str(model_dir), str(bad)]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_collect_keeps_explicit_files(tmp_path):
    odd = tmp_path / "recording.data"
    odd.write_bytes(b"x")
    assert collect_audio_paths([odd]) == [odd]
