"""Bounded decoding (issue 22, item 4): sizes come from the header before decoding, long files are read in
blocks, files over ``data.max_file_s`` and special files (FIFOs, devices, links to them) are skipped with a
reason and never opened."""

from __future__ import annotations

import os
import shutil
import signal
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import clip_dataset, write_wav
from hub.tiny_run import write_tiny_model

import hf_ser
import hf_ser.evaluation.inference as inference
import hf_ser.evaluation.windowing as windowing
from hf_ser import audio
from hf_ser.data.store import AudioStore


@pytest.fixture
def alarm():
    """Fail instead of hanging when something opens a FIFO."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked on a special file"))
    signal.alarm(20)
    yield
    signal.alarm(0)


def _specials(folder):
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "fifo.wav")
    os.symlink("/dev/zero", folder / "zero.wav")
    return [folder / "fifo.wav", folder / "zero.wav"]


def test_special_files_are_refused_with_a_reason_and_never_opened(tmp_path, alarm):
    fifo, zero = _specials(tmp_path)
    for path, kind in [(fifo, "a FIFO"), (zero, "a character device (through a symbolic link)")]:
        for read in (audio.read_info, audio.load_audio, lambda p: next(audio.read_blocks(p))):
            with pytest.raises(audio.AudioError, match="special file") as err:
                read(path)
            assert kind in err.value.reason


def test_the_store_skips_special_and_too_long_files_with_reasons(tmp_path, alarm):
    good = write_wav(tmp_path / "c" / "good.wav", seconds=1.0)
    long = write_wav(tmp_path / "c" / "long.wav", seconds=3.0)
    paths = [good, long, *_specials(tmp_path / "c")]
    ds = clip_dataset(paths, tmp_path / "c")
    store, kept = AudioStore.prepare(ds, tmp_path / "cache", max_file_s=2.0, progress=False)
    assert kept["utt_id"] == ["good"]
    reasons = dict((key, item.reason) for key, item in store.skipped)
    assert reasons["fake/long"] == "too long: 3 s > data.max_file_s 2 s"
    assert "FIFO" in reasons["fake/fifo"] and "character device" in reasons["fake/zero"]
    # The limit is part of the store's key: without it the long file is decoded and kept.
    _, all_kept = AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    assert all_kept["utt_id"] == ["good", "long"]


def test_load_audio_never_allocates_past_the_limit(tmp_path):
    path = write_wav(tmp_path / "x.wav", seconds=2.0)
    with pytest.raises(audio.AudioError, match="too long"):
        audio.load_audio(path, max_s=1.5)
    wave, _ = audio.load_audio(path, max_s=2.0)
    assert len(wave) == 32_000


@pytest.mark.parametrize("sample_rate", [16_000, 22_050])
def test_blocks_concatenate_to_the_whole_file(tmp_path, sample_rate):
    path = write_wav(tmp_path / "x.wav", sample_rate=sample_rate, seconds=3.3, channels=2, freq_hz=300.0)
    whole, _ = audio.load_audio(path)
    blocks = list(audio.read_blocks(path, block_s=0.5))
    assert len(blocks) >= 6 and all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    joined = np.concatenate(blocks)
    assert abs(len(joined) - len(whole)) <= 1
    n = min(len(joined), len(whole))
    # Resampled as one stream: equal to the whole-file resampling up to soxr's filter edge effects.
    np.testing.assert_allclose(joined[:n], whole[:n], atol=0 if sample_rate == 16_000 else 2e-3)


def test_hours_of_audio_in_a_small_flac_are_read_in_constant_memory(tmp_path):
    path = tmp_path / "bomb.flac"
    with sf.SoundFile(path, "w", samplerate=2_000, channels=1, format="FLAC", subtype="PCM_16") as f:
        minute = np.zeros(2_000 * 60, np.float32)
        minute[::2_000] = 0.5  # a click a second in the first minute, silence after it
        for _ in range(60):
            f.write(minute)
            minute[:] = 0.0
    assert path.stat().st_size < 60_000  # one hour of audio; decoded at 16 kHz float32 it is 230 MB
    info = audio.read_info(path)
    assert audio.decoded_samples(info) == 3600 * 16_000  # known from the header, before decoding
    tracemalloc.start()
    total, largest = 0, 0
    for block in audio.read_blocks(path, block_s=10.0):
        total += len(block)
        largest = max(largest, len(block))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert abs(total - 3600 * 16_000) <= 16 and largest <= 10.5 * 16_000  # a block, give or take the resampler delay
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MB traced while reading an hour"


@pytest.mark.parametrize("sample_rate", [16_000, 22_050])
def test_a_seekable_wave_reads_any_span_as_the_whole_decode_does(tmp_path, sample_rate):
    path = write_wav(tmp_path / "x.wav", sample_rate=sample_rate, seconds=5.0, channels=2, freq_hz=300.0)
    whole, _ = audio.load_audio(path)
    lazy = audio.SeekableWave(path)
    assert abs(len(lazy) - len(whole)) <= 1
    for start, end in [(0, 8000), (12_345, 40_000), (len(whole) - 8000, len(whole))]:
        span = lazy[start:end]
        assert span.dtype == np.float32 and len(span) == end - start
        np.testing.assert_allclose(span, whole[start:end], atol=0 if sample_rate == 16_000 else 1e-3)
    assert lazy.peak() == pytest.approx(float(np.max(np.abs(whole))), abs=1e-3)


def test_a_long_file_is_scored_window_by_window_as_if_decoded_whole(tmp_path, monkeypatch):
    model_dir = write_tiny_model(tmp_path / "model")
    model, extractor = inference.load_model(model_dir)
    long = write_wav(tmp_path / "long.wav", seconds=20.0, freq_hz=180.0)
    short = write_wav(tmp_path / "short.wav", seconds=1.0, freq_hz=300.0)
    kwargs = dict(window_s=0.5, batch_size=8, progress=False)
    whole, _ = inference.infer_logits(model, extractor, [short, long, short], **kwargs)
    monkeypatch.setattr(windowing, "SEEKABLE_ABOVE_S", 10.0)  # the 20-s file is now "long"
    decoded = []
    real = windowing.load_audio
    monkeypatch.setattr(windowing, "load_audio", lambda p, **kw: decoded.append(p) or real(p, **kw))
    lazy, failures = inference.infer_logits(model, extractor, [short, long, short], **kwargs)
    assert not failures and long not in decoded and decoded  # the long file was never decoded whole
    np.testing.assert_allclose(lazy, whole, atol=1e-4)
    predictions = hf_ser.load(model_dir, window_s=0.5).predict([str(long)])  # hf-ser predict's path
    assert predictions[0].error is None and len(predictions[0].segments) > 1


def test_a_corpus_folder_with_special_files_counts_them_as_skipped(tmp_path, alarm):
    from hf_ser.corpora import load_corpus
    from hf_ser.demo_data import demo_root

    root = tmp_path / "emodb"
    shutil.copytree(demo_root("emodb"), root)
    os.mkfifo(root / "wav" / "16b10Wb.wav")
    os.symlink("/dev/zero", root / "wav" / "16b10Wc.wav")
    ds, log = load_corpus("emodb", root)
    reasons = {s.path: s.reason for s in log.skipped}
    assert "FIFO" in reasons["wav/16b10Wb.wav"] and "character device" in reasons["wav/16b10Wc.wav"]
    assert log.reconciles() and len(ds) == 28
