"""The loaded-corpus cache: a warm start reads no audio header; any change to the corpus folder reloads; a
header read once under a cache folder (inspect, a store build, a run) is not read again while the file is
unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import write_wav

import hf_ser
import hf_ser.audio
import hf_ser.data.corpus_cache
from hf_ser.config import CorpusSpec
from hf_ser.corpora import load_corpus
from hf_ser.data.corpus_cache import load_corpus_cached, root_signature
from hf_ser.data.corpus_report import inspect_corpus
from hf_ser.data.prepare import prepare_corpora


def write_manifest(root, names=("a", "b", "c"), labels=None):
    lines = ["path,label,speaker"]
    for n, name in enumerate(names):
        if not (root / f"{name}.wav").exists():
            write_wav(root / f"{name}.wav", seconds=0.3 + 0.1 * n, freq_hz=220.0 + 40 * n)
        lines.append(f"{name}.wav,{(labels or {}).get(name, 'anger')},s{n}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def header_reads(monkeypatch):
    calls = []
    real = hf_ser.audio.sf.info

    def counting(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(hf_ser.audio.sf, "info", counting)
    return calls


@pytest.fixture
def corpus_loads(monkeypatch):
    calls = []
    real = hf_ser.data.corpus_cache.load_corpus

    def counting(name, root, **kwargs):
        calls.append(name)
        return real(name, root, **kwargs)

    monkeypatch.setattr(hf_ser.data.corpus_cache, "load_corpus", counting)
    return calls


def test_warm_load_reads_no_header_and_gives_the_same_rows_and_counts(tmp_path, header_reads):
    write_manifest(tmp_path / "c")
    first, log1 = load_corpus_cached("manifest", tmp_path / "c", tmp_path / "cache")
    assert len(header_reads) == 3
    second, log2 = load_corpus_cached("manifest", tmp_path / "c", tmp_path / "cache")
    assert len(header_reads) == 3  # nothing opened again
    assert second.to_pandas().equals(first.to_pandas()) and log2.to_dict() == log1.to_dict() and log2.reconciles()


@pytest.mark.parametrize("change", ["label", "add_clip", "rename_clip", "options"])
def test_any_change_to_the_corpus_reloads(tmp_path, header_reads, corpus_loads, change):
    root = tmp_path / "c"
    write_manifest(root)
    load_corpus_cached("manifest", root, tmp_path / "cache")
    kwargs = {}
    if change == "label":
        write_manifest(root, labels={"b": "neutral"})
    elif change == "add_clip":
        write_manifest(root, names=("a", "b", "c", "d"))
    elif change == "rename_clip":
        (root / "c.wav").rename(root / "c2.wav")  # the manifest now points at a missing file
    else:
        kwargs = {"corpus_name": "other"}
    ds, log = load_corpus_cached("manifest", root, tmp_path / "cache", **kwargs)
    assert len(corpus_loads) == 2
    # Only what is new is read: headers recorded by the first load are reused.
    assert len(header_reads) == {"label": 3, "add_clip": 4, "rename_clip": 3, "options": 3}[change]
    if change == "label":
        assert ds["label"] == ["anger", "neutral", "anger"]
    if change == "rename_clip":
        assert [s.reason for s in log.skipped] == ["missing file"]


def test_signature_sees_a_rewritten_clip_and_skips_non_local_roots(tmp_path):
    write_manifest(tmp_path / "c")
    before = root_signature(tmp_path / "c")
    assert root_signature(tmp_path / "c") == before
    import os

    os.utime(tmp_path / "c" / "a.wav", ns=(0, 0))  # a clip replaced in place: its header is read again
    assert root_signature(tmp_path / "c") != before
    assert root_signature("someone/some-hub-dataset") is None


def test_prepared_data_reads_waves_through_plain_arrays(tmp_path):
    write_manifest(tmp_path / "one")
    demo = Path(hf_ser.__file__).parent / "demo_data" / "emodb"
    specs = [CorpusSpec(name="manifest", root=str(tmp_path / "one"), options={"corpus_name": "one"}),
             CorpusSpec(name="emodb", root=str(demo))]
    for dtype in ("float32", "int16"):
        data = prepare_corpora(specs, cache_dir=tmp_path / "cache", progress=False, store_dtype=dtype)
        n = len(data.dataset)
        assert n > 3 and data.column("corpus") == ["one"] * 3 + ["emodb"] * (n - 3)
        for i in range(n):
            key = data.key(i)
            store = data.stores["manifest" if key.startswith("one/") else "emodb"]
            np.testing.assert_array_equal(data.wave(i), store.get(key))
            assert data.num_samples(i) == data.lengths[i] == store.num_samples(key)
        decoded, _ = hf_ser.audio.load_audio(tmp_path / "one" / "b.wav")
        np.testing.assert_array_equal(data.wave(1), decoded)  # int16: exact for 16-bit PCM at 16 kHz


def test_headers_read_by_inspect_are_not_read_again_by_a_run_with_other_options(tmp_path, header_reads):
    root, cache = tmp_path / "c", tmp_path / "cache"
    write_manifest(root)
    inspect_corpus("manifest", root, cache_root=cache)  # loads and builds the store: reads every header
    assert len(header_reads) == 3
    data = prepare_corpora([CorpusSpec(name="manifest", root=str(root))], cache_dir=cache, progress=False, min_samples=400)
    assert len(header_reads) == 3  # another loader option (a new loaded-corpus entry), no header read
    fresh, _ = load_corpus("manifest", root, min_samples=400)  # no record: reads the files themselves
    assert len(header_reads) == 6
    for column in ("duration_s", "sample_rate", "path"):
        assert data.column(column) == fresh[column]


def test_a_changed_file_has_its_header_read_again(tmp_path, header_reads):
    import os

    root, cache = tmp_path / "c", tmp_path / "cache"
    write_manifest(root)
    load_corpus_cached("manifest", root, cache)
    write_wav(root / "b.wav", seconds=1.5)  # new length: new size
    os.utime(root / "c.wav", ns=(1, 1))  # same bytes, other mtime
    ds, _ = load_corpus_cached("manifest", root, cache, min_samples=1)
    assert sorted(Path(p).name for p in header_reads[3:]) == ["b.wav", "c.wav"]
    assert ds["duration_s"][1] == pytest.approx(1.5)
    load_corpus_cached("manifest", root, cache, min_samples=2)
    assert len(header_reads) == 5  # the re-read headers were recorded in turn
