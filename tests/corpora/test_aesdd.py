"""AESDD loader against a fake tree with the irregular file names of the real release."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.aesdd import INFO, load_aesdd

SR = 44_100


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "AESDD"
    write_wav(r / "anger/a06 (3).wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "anger/a06 (5)b.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "fear/f10 (01).wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "sadness/s01 (5)a.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "happiness/h20 (2).wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "disgust/d01 (4).wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "disgust/x01 (4).wav", sample_rate=SR, seconds=0.2)  # unknown emotion letter
    write_wav(r / "disgust/d01.wav", sample_rate=SR, seconds=0.2)  # no speaker
    return r


def test_irregular_names(root):
    ds, log = load_corpus("aesdd", root)
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"a06 (3)", "a06 (5)b", "f10 (01)", "s01 (5)a", "h20 (2)", "d01 (4)"}
    a = rows["a06 (3)"]
    assert (a["label"], a["orig_label"], a["speaker"], a["gender"]) == ("anger", "a", "3", "unknown")
    assert a["language"] == "el" and a["sample_rate"] == SR and a["rel_path"] == "anger/a06 (3).wav"
    assert json.loads(a["meta"]) == {"utterance": "06", "take": ""}
    assert rows["f10 (01)"]["speaker"] == "1" and rows["f10 (01)"]["label"] == "fear"
    assert json.loads(rows["a06 (5)b"]["meta"]) == {"utterance": "06", "take": "b"}
    assert rows["a06 (5)b"]["speaker"] == "5"
    assert (rows["s01 (5)a"]["label"], rows["h20 (2)"]["label"], rows["d01 (4)"]["label"]) == (
        "sadness",
        "happiness",
        "disgust",
    )
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons["disgust/x01 (4).wav"] == "unknown emotion letter x"
    assert reasons["disgust/d01.wav"].startswith("unparseable file name")
    assert (log.found, log.used) == (8, 6) and log.reconciles()


def test_label_set_list(root):
    ds, log = load_corpus("aesdd", root, label_set=["anger"])
    assert len(ds) == 2 and log.excluded_by_label_set == 4 and log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match=r"anger/a06 \(3\).wav"):
        load_aesdd(tmp_path / "none")


def test_wrong_layout(tmp_path):
    (tmp_path / "anger").mkdir()
    with pytest.raises(CorpusLayoutError, match="no audio files found"):
        load_aesdd(tmp_path)


def test_info():
    assert INFO.languages == ("el",) and INFO.protocols == ("aesdd_emobox", "speaker_kfold")
