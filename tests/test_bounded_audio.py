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

import hf_ser.evaluation.inference as inference
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
        for read in (audio.read_info, audio.load_audio, lambda p: next(audio.iter_blocks(p))):
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
    blocks = list(audio.iter_blocks(path, block_s=0.5))
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
    for block in audio.iter_blocks(path, block_s=10.0):
        total += len(block)
        largest = max(largest, len(block))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert abs(total - 3600 * 16_000) <= 16 and largest <= 10.5 * 16_000  # a block, give or take the resampler delay
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MB traced while reading an hour"


def test_a_long_file_is_scored_in_blocks_as_if_whole(tmp_path, monkeypatch):
    model_dir = write_tiny_model(tmp_path / "model")
    model, extractor = inference.load_model(model_dir)
    long = write_wav(tmp_path / "long.wav", seconds=20.0, freq_hz=180.0)
    short = write_wav(tmp_path / "short.wav", seconds=1.0, freq_hz=300.0)
    kwargs = dict(sampling_rate=16_000, window=8_000, batch_size=8, collate_fn=inference.collator_for(extractor))
    streamed = list(inference.scored_files(model, [short, long, short], **kwargs))
    group_windows = inference.GROUP_WINDOWS
    monkeypatch.setattr(inference, "GROUP_WINDOWS", 10_000)  # everything decoded whole, as before
    whole = list(inference.scored_files(model, [short, long, short], **kwargs))
    assert [s.position for s in streamed] == [0, 1, 2]
    for a, b in zip(streamed, whole):
        assert a.windows == b.windows and a.n_samples == b.n_samples
        np.testing.assert_allclose(a.logits, b.logits, atol=1e-4)
        np.testing.assert_allclose(a.mean, b.mean, atol=1e-4)
    assert len(streamed[1].windows) == 79 > group_windows
    # The long file was never decoded whole.
    monkeypatch.setattr(inference, "GROUP_WINDOWS", group_windows)
    decoded = []
    real = inference.load_audio
    monkeypatch.setattr(inference, "load_audio", lambda p, **kw: decoded.append(p) or real(p, **kw))
    list(inference.scored_files(model, [long], **kwargs))
    assert decoded == []


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
