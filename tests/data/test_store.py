"""AudioStore: decode once, cache by fingerprint, skip unusable clips with reconciled counts."""

from __future__ import annotations

import os
import pickle
import shutil
import threading
from pathlib import Path

import datasets
import numpy as np
import pytest
from audio_fixtures import clip_dataset, write_corrupt, write_wav

import hf_ser.audio
from hf_ser.corpora._base import SkipLog
from hf_ser.corpora._schema import FEATURES
from hf_ser.data.store import AudioStore, default_cache_root

# name -> write_wav keyword arguments (None: a corrupt file)
FILES = {
    "a16k.wav": {"sample_rate": 16_000, "seconds": 0.5},
    "b48k.wav": {"sample_rate": 48_000, "seconds": 0.5, "channels": 2},
    "c22k.wav": {"sample_rate": 22_050, "seconds": 0.5, "freq_hz": 440.0},
    "d_silent.wav": {"sample_rate": 16_000, "seconds": 0.5, "kind": "silence"},
    "e_empty.wav": {"sample_rate": 16_000, "kind": "empty"},
    "f_corrupt.wav": None,
}


def make_corpus(root: Path, corpus: str = "fake") -> datasets.Dataset:
    paths = []
    for name, kwargs in FILES.items():
        path = root / "spk1" / name
        write_corrupt(path) if kwargs is None else write_wav(path, **kwargs)
        paths.append(path)
    return clip_dataset(paths, root, corpus, [(kwargs or {}).get("sample_rate", 0) for kwargs in FILES.values()])


def used_log(n: int) -> SkipLog:
    """A log as a loader leaves it: every clip found and counted as used."""
    log = SkipLog()
    log.found = log.used = n
    return log


@pytest.fixture
def counted_loads(monkeypatch):
    calls: list[str] = []
    real = hf_ser.audio.load_audio

    def counting(path, target_sr=hf_ser.audio.SAMPLE_RATE, **kwargs):
        calls.append(str(path))
        return real(path, target_sr, **kwargs)

    monkeypatch.setattr(hf_ser.audio, "load_audio", counting)
    return calls


def test_prepare_skips_unusable_clips_and_reconciles(tmp_path):
    ds = make_corpus(tmp_path / "corpus")
    log = used_log(len(ds))
    store, kept = AudioStore.prepare(ds, tmp_path / "cache", skip_log=log, progress=False)
    assert kept["utt_id"] == ["a16k", "b48k", "c22k"]
    assert sorted(store.keys) == ["fake/a16k", "fake/b48k", "fake/c22k"] and len(store) == 3
    reasons = {s.path: s.reason for s in log.skipped}
    assert set(reasons) == {"spk1/d_silent.wav", "spk1/e_empty.wav", "spk1/f_corrupt.wav"}
    assert reasons["spk1/d_silent.wav"].startswith("silent audio")
    assert reasons["spk1/e_empty.wav"].startswith("empty audio")
    assert reasons["spk1/f_corrupt.wav"].startswith("unreadable audio")
    assert log.used == 3 and log.reconciles()


def test_resamples_from_the_header_rate(tmp_path):
    ds = make_corpus(tmp_path / "corpus")
    store, _ = AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    assert store.sample_rate == 16_000
    for key in ("fake/a16k", "fake/b48k", "fake/c22k"):
        assert store.num_samples(key) == 8_000  # 0.5 s at 16 kHz, whatever the file's rate
        assert store.get(key).dtype == np.float32
    expected, _ = hf_ser.audio.load_audio(tmp_path / "corpus" / "spk1" / "c22k.wav")
    np.testing.assert_array_equal(store.get("fake/c22k"), expected)
    # A 440 Hz tone at 22.05 kHz stays a 440 Hz tone at 16 kHz.
    spectrum = np.abs(np.fft.rfft(store.get("fake/c22k")))
    assert abs(np.argmax(spectrum) * 16_000 / 8_000 - 440) <= 2


def test_second_prepare_decodes_nothing_and_reports_the_same_skips(tmp_path, counted_loads):
    ds = make_corpus(tmp_path / "corpus")
    first_log, second_log = used_log(len(ds)), used_log(len(ds))
    first, kept1 = AudioStore.prepare(ds, tmp_path / "cache", skip_log=first_log, progress=False)
    assert len(counted_loads) == len(ds)
    second, kept2 = AudioStore.prepare(ds, tmp_path / "cache", skip_log=second_log, progress=False)
    assert len(counted_loads) == len(ds)  # no new decode
    assert second.directory == first.directory
    assert kept2["utt_id"] == kept1["utt_id"]
    assert second_log.to_dict() == first_log.to_dict()
    np.testing.assert_array_equal(second.get("fake/b48k"), first.get("fake/b48k"))


def with_column(ds: datasets.Dataset, name: str, values: list) -> datasets.Dataset:
    return ds.remove_columns(name).add_column(name, values, feature=FEATURES[name]).select_columns(list(FEATURES))


def test_store_key_covers_content_and_root_but_not_mtimes(tmp_path, counted_loads):
    ds = make_corpus(tmp_path / "corpus")
    first, _ = AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    path = tmp_path / "corpus" / "spk1" / "a16k.wav"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    # Touched (same bytes): the full hash matches, same store, nothing decoded again.
    touched, _ = AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    assert touched.directory == first.directory and len(counted_loads) == len(ds)
    # The same clips under another root are another corpus: a store of their own.
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "corpus", copy)
    moved = with_column(ds, "path", [p.replace(str(tmp_path / "corpus"), str(copy)) for p in ds["path"]])
    elsewhere, _ = AudioStore.prepare(moved, tmp_path / "cache", progress=False)
    assert elsewhere.directory != first.directory and elsewhere.content_changed == 0
    # Different audio of the same name, length, rate and size, with the old mtime: decoded again, and counted.
    before = first.get("fake/c22k").copy()
    write_wav(copy / "spk1" / "c22k.wav", sample_rate=22_050, seconds=0.5, freq_hz=880.0)
    os.utime(copy / "spk1" / "c22k.wav", ns=(st.st_atime_ns, (copy / "spk1" / "c22k.wav").stat().st_mtime_ns))
    assert (copy / "spk1" / "c22k.wav").stat().st_size == (tmp_path / "corpus" / "spk1" / "c22k.wav").stat().st_size
    changed, _ = AudioStore.prepare(moved, tmp_path / "cache", progress=False)
    assert changed.directory != elsewhere.directory and changed.content_changed == 1
    assert not np.allclose(changed.get("fake/c22k"), before)
    # A change in the middle of a long file (its first and last blocks equal), same size, mtime moved: the
    # fast hash disagrees, so the file is hashed in full and the change is seen.
    fresh = tmp_path / "corpus2"
    shutil.copytree(tmp_path / "corpus", fresh)
    long_file = fresh / "spk1" / "b48k.wav"
    write_wav(long_file, sample_rate=48_000, seconds=3.0, channels=2)
    ds2 = with_column(ds, "path", [p.replace(str(tmp_path / "corpus"), str(fresh)) for p in ds["path"]])
    base, _ = AudioStore.prepare(ds2, tmp_path / "cache", progress=False)
    data = bytearray(long_file.read_bytes())
    assert len(data) > 3 * 64 * 1024
    middle = len(data) // 2
    data[middle : middle + 4] = bytes(4 - i for i in range(4))
    mtime = long_file.stat().st_mtime_ns
    long_file.write_bytes(bytes(data))
    os.utime(long_file, ns=(mtime, mtime + 1))
    edited, _ = AudioStore.prepare(ds2, tmp_path / "cache", progress=False)
    assert edited.directory != base.directory and edited.content_changed == 1
    settings = [
        AudioStore.prepare(ds, tmp_path / "cache", sample_rate=8_000, progress=False)[0],
        AudioStore.prepare(ds, tmp_path / "cache", silence_peak=0.0, progress=False)[0],
        AudioStore.prepare(ds, tmp_path / "cache", dtype="int16", progress=False)[0],
    ]
    assert len({s.directory for s in settings} | {first.directory}) == 4
    assert settings[0].num_samples("fake/a16k") == 4_000
    assert "fake/d_silent" in settings[1]


def test_int16_store_is_half_the_disk_and_exact_for_16k_pcm(tmp_path):
    ds = make_corpus(tmp_path / "corpus")
    f32, _ = AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    i16, kept = AudioStore.prepare(ds, tmp_path / "cache", dtype="int16", progress=False)
    assert len(kept) == 3 and i16.dtype == "int16"
    assert np.load(i16.directory / "audio.npy", mmap_mode="r").dtype == np.int16
    assert (i16.directory / "audio.npy").stat().st_size * 2 - (f32.directory / "audio.npy").stat().st_size < 512
    # 16-bit PCM at 16 kHz, mono: exactly what soundfile decodes.
    decoded, _ = hf_ser.audio.load_audio(tmp_path / "corpus" / "spk1" / "a16k.wav")
    assert i16.get("fake/a16k").dtype == np.float32
    np.testing.assert_array_equal(i16.get("fake/a16k"), decoded)
    # Resampled / down-mixed clips are rounded to 16 bits and counted.
    assert i16.inexact_clips == 2
    np.testing.assert_allclose(i16.get("fake/b48k"), f32.get("fake/b48k"), atol=2.0**-16)
    with pytest.raises(ValueError, match="store dtype"):
        AudioStore.prepare(ds, tmp_path / "cache", dtype="float16", progress=False)


def test_killed_prepare_leaves_no_cache(tmp_path, monkeypatch):
    ds = make_corpus(tmp_path / "corpus")
    real = hf_ser.audio.load_audio
    calls = []

    def dies_on_second(path, target_sr=16_000, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # what a Ctrl-C or a kill mid-decode looks like to the code
        return real(path, target_sr, **kwargs)

    monkeypatch.setattr(hf_ser.audio, "load_audio", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.suffix != ".lock"] == ["content"]  # hash memo only
    monkeypatch.setattr(hf_ser.audio, "load_audio", real)
    store, kept = AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    assert len(store) == 3 and len(kept) == 3
    # A SIGKILL runs no cleanup: the half-built folder stays until the next build of that store removes it.
    half_built = tmp_path / "cache" / f".tmp-{store.fingerprint}-killed"
    half_built.mkdir()
    (half_built / "audio.npy").write_bytes(b"partial")
    shutil.rmtree(store.directory)
    AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    assert not half_built.exists() and store.directory.is_dir()


def test_store_folders_follow_the_umask(tmp_path):
    old = os.umask(0o002)  # a group-shared cache
    try:
        store, _ = AudioStore.prepare(make_corpus(tmp_path / "corpus"), tmp_path / "cache", progress=False)
    finally:
        os.umask(old)
    assert store.directory.stat().st_mode & 0o777 == 0o775


def test_concurrent_writers_decode_once(tmp_path, counted_loads):
    ds = make_corpus(tmp_path / "corpus")
    results, errors = [], []

    def prepare():
        try:
            results.append(AudioStore.prepare(ds, tmp_path / "cache", progress=False)[0])
        except Exception as e:  # surfaced by the assert below
            errors.append(e)

    threads = [threading.Thread(target=prepare) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(counted_loads) == len(ds)  # the second waited on the lock and reused the first's store
    assert results[0].directory == results[1].directory
    assert sorted(p.name for p in (tmp_path / "cache").iterdir() if p.suffix != ".lock") == sorted(["content", results[0].directory.name])
    np.testing.assert_array_equal(results[0].get("fake/a16k"), results[1].get("fake/a16k"))


def test_store_file_is_a_valid_npy_and_pickles_without_its_samples(tmp_path):
    ds = make_corpus(tmp_path / "corpus")
    store, _ = AudioStore.prepare(ds, tmp_path / "cache", progress=False)
    flat = np.load(store.directory / "audio.npy")
    assert flat.dtype == np.float32 and flat.shape == (24_000,)
    store.get("fake/a16k")  # opens the memory map
    blob = pickle.dumps(store)
    assert len(blob) < 10_000  # the 96 KB of samples did not travel
    np.testing.assert_array_equal(pickle.loads(blob).get("fake/b48k"), store.get("fake/b48k"))
    with pytest.raises(KeyError, match="fake/nope"):
        store.get("fake/nope")


def test_mixed_corpora_prefix_skip_paths(tmp_path):
    ds = datasets.concatenate_datasets([make_corpus(tmp_path / "one", "one"), make_corpus(tmp_path / "two", "two")])
    log = used_log(len(ds))
    store, kept = AudioStore.prepare(ds, tmp_path / "cache", skip_log=log, progress=False)
    assert len(store) == 6 and len(kept) == 6
    assert "one/spk1/d_silent.wav" in {s.path for s in log.skipped}
    assert log.reconciles()


def test_default_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path))
    assert default_cache_root() == tmp_path
    monkeypatch.delenv("HF_SER_CACHE")
    assert default_cache_root() == Path("~/.cache/hf_ser").expanduser()
