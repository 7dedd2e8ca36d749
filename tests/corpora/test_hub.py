"""Hub loader: save_to_disk folders and parquet files with path or embedded-bytes audio, plus a mocked Hub id."""

from __future__ import annotations

import json

import datasets
import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora import hub as hub_module
from hf_ser.corpora.hub import INFO, load_hub

LABELS = ["angry", "happy", "neutral"]


def _wavs(folder):
    return [
        write_wav(folder / "audio" / "s1_001.wav", sample_rate=16_000, seconds=0.2, freq_hz=200),
        write_wav(folder / "audio" / "s1_002.wav", sample_rate=44_100, seconds=0.3, freq_hz=300),
        write_wav(folder / "audio" / "s2_001.wav", sample_rate=16_000, seconds=0.2, freq_hz=400),
    ]


def _embedded(folder) -> datasets.Dataset:
    """Audio stored inside the dataset as bytes, labels as a ClassLabel (the usual Hub shape)."""
    wavs = _wavs(folder)
    features = datasets.Features(
        {
            # built as a plain struct and cast: encoding into an Audio column needs torchcodec
            "audio": {"bytes": datasets.Value("binary"), "path": datasets.Value("string")},
            "emotion": datasets.ClassLabel(names=LABELS),
            "spk": datasets.Value("string"),
            "transcription": datasets.Value("string"),
        }
    )
    ds = datasets.Dataset.from_dict(
        {
            "audio": [{"bytes": p.read_bytes(), "path": p.name} for p in wavs],
            "emotion": [0, 1, 2],
            "spk": ["s1", "s1", "s2"],
            "transcription": ["one", "two", "three"],
        },
        features=features,
    )
    return ds.cast_column("audio", datasets.Audio(decode=False))


def _paths(folder) -> datasets.Dataset:
    """Audio as relative path strings next to the saved dataset, with schema-named extra columns."""
    _wavs(folder)
    return datasets.Dataset.from_dict(
        {
            "file": ["audio/s1_001.wav", "audio/s1_002.wav", "audio/s2_001.wav", "audio/gone.wav"],
            "label": ["anger", "happiness", "surprise", "neutral"],
            "speaker": ["s1", "s1", "s2", "s2"],
            "gender": ["female", "female", "male", "male"],
            "arousal": [0.9, 0.7, 0.5, 0.1],
        }
    )


def _check_embedded(ds, log, cache):
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"s1_001", "s1_002"}  # neutral is outside the label set
    a = rows["s1_001"]
    assert (a["label"], a["orig_label"], a["speaker"], a["corpus"]) == ("anger", "angry", "s1", "hub")
    assert json.loads(a["meta"]) == {"transcription": "one", "source_path": "s1_001.wav"}
    assert rows["s1_002"]["sample_rate"] == 44_100 and rows["s1_002"]["label"] == "happiness"
    cached = sorted(cache.glob("*.wav"))
    assert len(cached) == 3  # all embedded files were written, including the excluded one
    assert {r["path"] for r in ds} <= {str(p) for p in cached}
    assert (log.found, log.used, log.excluded_by_label_set) == (3, 2, 1) and log.reconciles()


LABEL_MAP = {"angry": "anger", "happy": "happiness", "neutral": "neutral"}


def test_save_to_disk_embedded_bytes(tmp_path):
    _embedded(tmp_path / "src").save_to_disk(str(tmp_path / "saved"))
    cache = tmp_path / "cache"
    opts = dict(label_column="emotion", speaker_column="spk", cache_dir=cache, label_map=LABEL_MAP)
    ds, log = load_corpus("hub", tmp_path / "saved", label_set=["anger", "happiness"], **opts)
    _check_embedded(ds, log, cache)
    # the clips live in the cache, so the root is the folder holding both the dataset and the cache
    assert ds[0]["rel_path"] == "cache/" + ds[0]["path"].rsplit("/", 1)[1]
    mtimes = {p: p.stat().st_mtime_ns for p in cache.iterdir()}
    ds2, _ = load_corpus("hub", tmp_path / "saved", label_set=["anger", "happiness"], **opts)
    assert ds2["path"] == ds["path"]
    assert {p: p.stat().st_mtime_ns for p in cache.iterdir()} == mtimes  # written once


def test_parquet_embedded_bytes(tmp_path):
    (tmp_path / "pq" / "data").mkdir(parents=True)
    _embedded(tmp_path / "src").to_parquet(str(tmp_path / "pq" / "data" / "train-00000-of-00001.parquet"))
    datasets.Dataset.from_dict({"audio": [], "emotion": [], "spk": []}).to_parquet(
        str(tmp_path / "pq" / "data" / "test-00000-of-00001.parquet")
    )
    cache = tmp_path / "cache"
    ds, log = load_corpus(
        "hub",
        tmp_path / "pq",
        label_set=["anger", "happiness"],
        label_column="emotion",
        speaker_column="spk",
        cache_dir=cache,
        label_map=LABEL_MAP,
    )
    _check_embedded(ds, log, cache)
    assert set(ds["split"]) == {"train"}  # chosen by the Hub file naming
    with pytest.raises(CorpusLayoutError, match="no parquet files for split 'validation'"):
        load_hub(tmp_path / "pq", split="validation", label_column="emotion", speaker_column="spk")


def test_save_to_disk_paths_datasetdict(tmp_path):
    folder = tmp_path / "saved"
    datasets.DatasetDict({"test": _paths(folder)}).save_to_disk(str(folder))
    ds, log = load_corpus("hub", folder, split="test", path_column="file")
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"s1_001", "s1_002", "s2_001"}
    a = rows["s1_001"]
    assert (a["label"], a["speaker"], a["gender"], a["split"], a["rel_path"]) == (
        "anger",
        "s1",
        "female",
        "test",
        "audio/s1_001.wav",
    )
    assert a["arousal"] == pytest.approx(0.9) and json.loads(a["meta"]) == {}
    assert rows["s2_001"]["label"] == "surprise"
    assert [(s.path, s.reason) for s in log.skipped] == [(str(folder / "audio" / "gone.wav"), "missing file")]
    assert (log.found, log.used) == (4, 3) and log.reconciles()
    with pytest.raises(CorpusLayoutError, match=r"split 'train' not in .*\['test'\]"):
        load_hub(folder, path_column="file")


def test_single_parquet_file_with_paths(tmp_path):
    _paths(tmp_path).to_parquet(str(tmp_path / "clips.parquet"))
    ds, log = load_corpus("hub", tmp_path / "clips.parquet", path_column="file", label_set=["anger"])
    assert ds["utt_id"] == ["s1_001"] and ds["split"] == [""]
    assert log.excluded_by_label_set == 2 and log.reconciles()


def test_hub_repo_id_uses_load_dataset(tmp_path, monkeypatch):
    local = _embedded(tmp_path / "src")
    calls = []

    def fake_load_dataset(repo, split):
        calls.append((repo, split))
        return local.cast_column("audio", datasets.Audio())  # what the Hub returns: a decoding Audio column

    monkeypatch.setattr(hub_module.datasets, "load_dataset", fake_load_dataset)
    ds, log = load_corpus(
        "hub",
        "someone/ser-corpus",
        split="validation",
        label_column="emotion",
        speaker_column=None,
        cache_dir=tmp_path / "cache",
        label_map=LABEL_MAP,
    )
    assert calls == [("someone/ser-corpus", "validation")]
    assert len(ds) == 3 and set(ds["speaker"]) == {"unknown"} and set(ds["split"]) == {"validation"}
    assert log.reconciles()


def test_errors(tmp_path):
    with pytest.raises(CorpusLayoutError, match="neither a local path nor a Hub repo id"):
        load_hub(tmp_path / "no" / "such" / "dir")
    _paths(tmp_path / "d").save_to_disk(str(tmp_path / "d"))
    with pytest.raises(CorpusLayoutError, match=r"lacks columns \['audio'\]"):
        load_hub(tmp_path / "d")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusLayoutError, match="no save_to_disk dataset and no parquet files"):
        load_hub(tmp_path / "empty")


def test_info():
    assert INFO.name == "hub" and "speaker_kfold" in INFO.protocols
