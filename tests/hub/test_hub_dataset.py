"""Pushing a prepared corpus: refused unless its licence allows it (or forced), parquet with audio bytes."""

from __future__ import annotations

import dataclasses
import io

import datasets
import pyarrow.parquet as pq
import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CORPORA, CorpusEntry
from hf_ser.hub import RedistributionError, push_dataset

TOKEN = "hf_DatasetTokenAbcdefghijklmnopqrstuvw12"


def _dataset(tmp_path):
    files = [write_wav(tmp_path / "corpus" / f"Actor_01/c{i}.wav", seconds=0.2, seed=i) for i in range(3)]
    return datasets.Dataset.from_dict(
        {
            "utt_id": [f"c{i}" for i in range(3)],
            "corpus": ["ravdess"] * 3,
            "path": [str(f) for f in files],
            "rel_path": [f"Actor_01/c{i}.wav" for i in range(3)],
            "label": ["angry", "sad", "happy"],
        }
    ), files


def _set_redistributable(monkeypatch, name: str, value: bool):
    entry = CORPORA[name]
    monkeypatch.setitem(CORPORA, name, CorpusEntry(dataclasses.replace(entry.info, redistributable=value), entry.load))


def test_non_redistributable_corpus_is_refused(fake_hub, tmp_path, monkeypatch):
    _set_redistributable(monkeypatch, "ravdess", False)
    ds, _ = _dataset(tmp_path)
    with pytest.raises(RedistributionError, match="force=True"):
        push_dataset(ds, "org/ravdess-copy", corpus="ravdess", token=TOKEN)
    assert not fake_hub.repos


@pytest.mark.parametrize("redistributable,force", [(True, False), (False, True)])
def test_allowed_or_forced_push_writes_parquet_with_audio(fake_hub, tmp_path, monkeypatch, redistributable, force):
    _set_redistributable(monkeypatch, "ravdess", redistributable)
    ds, files = _dataset(tmp_path)
    push_dataset(ds, "org/ravdess-copy", corpus="ravdess", token=TOKEN, force=force)
    repo = fake_hub.repo("org/ravdess-copy", "dataset")
    shards = [p for p in repo.head.files if p.endswith(".parquet")]
    assert shards == ["data/train-00000-of-00001.parquet"]
    table = pq.read_table(io.BytesIO(repo.head.files[shards[0]])).to_pylist()
    assert [r["label"] for r in table] == ["angry", "sad", "happy"]
    assert "path" not in table[0]  # no machine-specific paths in the pushed copy
    assert table[1]["audio"]["bytes"] == files[1].read_bytes()
    assert table[1]["audio"]["path"] == "Actor_01/c1.wav"
    assert "CC BY-NC-SA 4.0" in repo.head.files["README.md"].decode()
