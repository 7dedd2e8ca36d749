"""EMOVO loader against a fake tree with per-actor folders."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.emovo import INFO, load_emovo

SR = 48_000


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "EMOVO"
    write_wav(r / "f1/dis-f1-b1.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "m3/tri-m3-n5.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "m1/Gio-M1-D2.wav", sample_rate=SR, seconds=0.2)  # upper-case copy
    write_wav(r / "f2/sor-f2-l4.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "f2/xyz-f2-l4.wav", sample_rate=SR, seconds=0.2)  # unknown emotion
    write_wav(r / "f2/neu-f2-q9.wav", sample_rate=SR, seconds=0.2)  # unknown sentence
    write_wav(r / "f2/neu-f4-b1.wav", sample_rate=SR, seconds=0.2)  # no actor f4
    (r / "f1/._dis-f1-b1.wav").write_bytes(b"\x00\x05")
    return r


def test_parse(root):
    ds, log = load_corpus("emovo", root)
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"dis-f1-b1", "tri-m3-n5", "gio-m1-d2", "sor-f2-l4"}
    dis = rows["dis-f1-b1"]
    assert (dis["label"], dis["orig_label"], dis["speaker"], dis["gender"]) == (
        "disgust",
        "dis",
        "f1",
        "female",
    )
    assert (
        dis["text"] == "Gli operai si alzano presto" and dis["language"] == "it" and dis["sample_rate"] == SR
    )
    tri = rows["tri-m3-n5"]
    assert (tri["label"], tri["speaker"], tri["gender"]) == ("sadness", "m3", "male")
    assert tri["text"] == "Uno quarantatré dieci mille cinquantasette venti"
    assert json.loads(tri["meta"]) == {"sentence": "n5"}
    assert (
        rows["gio-m1-d2"]["label"] == "happiness" and rows["gio-m1-d2"]["text"] == "Porti con te quella cosa?"
    )
    assert rows["sor-f2-l4"]["label"] == "surprise"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons == {
        "f2/xyz-f2-l4.wav": "unknown emotion code xyz",
        "f2/neu-f2-q9.wav": "unknown sentence code q9",
        "f2/neu-f4-b1.wav": reasons["f2/neu-f4-b1.wav"],
    }
    assert reasons["f2/neu-f4-b1.wav"].startswith("unparseable file name")
    assert (log.found, log.used) == (7, 4)
    assert log.reconciles()


def test_label_set_list(root):
    ds, log = load_corpus("emovo", root, label_set=["sadness", "disgust"])
    assert sorted(ds["label"]) == ["disgust", "sadness"]
    assert log.excluded_by_label_set == 2 and log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="f1/dis-f1-b1.wav"):
        load_emovo(tmp_path / "none")


def test_wrong_layout(tmp_path):
    (tmp_path / "f1").mkdir()
    with pytest.raises(CorpusLayoutError, match="no audio files found"):
        load_emovo(tmp_path)


def test_info():
    assert INFO.languages == ("it",) and set(INFO.protocols) == {"emovo_loso", "emovo_emobox", "speaker_kfold"}
