"""TESS loader against flat and nested (Kaggle) fake trees."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.tess import INFO, load_tess

SR = 24_414


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "TESS"
    write_wav(r / "OAF_back_angry.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "YAF_hate_ps.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "OAF_food_fear.wav", sample_rate=96_000, seconds=0.2)  # the one 96 kHz header
    write_wav(r / "OAF_angry/OAF_back_angry.wav", sample_rate=SR, seconds=0.2)  # nested duplicate
    write_wav(r / "YAF_pleasant_surprised/YAF_bath_ps.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "YAF_happy/YAF_bean_happy.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "ZAF_bean_happy.wav", sample_rate=SR, seconds=0.2)  # unknown speaker
    write_wav(r / "OAF_bean_bored.wav", sample_rate=SR, seconds=0.2)  # unknown emotion
    write_wav(r / "OAF.wav", sample_rate=SR, seconds=0.2)
    return r


def test_flat_and_nested(root):
    ds, log = load_corpus("tess", root)
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"OAF_back_angry", "YAF_hate_ps", "OAF_food_fear", "YAF_bath_ps", "YAF_bean_happy"}
    back = rows["OAF_back_angry"]
    assert (back["label"], back["orig_label"], back["speaker"], back["gender"]) == (
        "anger",
        "angry",
        "OAF",
        "female",
    )
    # Paths are walked in sorted order, so the nested copy comes first and the flat one is the duplicate.
    assert back["text"] == "Say the word back" and back["rel_path"] == "OAF_angry/OAF_back_angry.wav"
    assert json.loads(back["meta"]) == {"word": "back", "age": 64}
    hate = rows["YAF_hate_ps"]
    assert (hate["label"], hate["speaker"], hate["gender"]) == ("surprise", "YAF", "female")
    assert rows["OAF_food_fear"]["sample_rate"] == 96_000 and back["sample_rate"] == SR
    assert rows["YAF_bean_happy"]["rel_path"] == "YAF_happy/YAF_bean_happy.wav"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons == {
        "OAF_back_angry.wav": "duplicate of utterance OAF_back_angry",
        "ZAF_bean_happy.wav": "unknown speaker ZAF (expected OAF or YAF)",
        "OAF_bean_bored.wav": "unknown emotion bored",
        "OAF.wav": "unparseable file name (expected <SPK>_<word>_<emotion>.wav)",
    }
    assert (log.found, log.used) == (9, 5) and log.reconciles()


def test_spelled_out_pleasant_surprise(tmp_path):
    write_wav(tmp_path / "t/YAF_bite_pleasant_surprised.wav", sample_rate=SR, seconds=0.2)
    ds, _ = load_corpus("tess", tmp_path / "t")
    assert (ds[0]["utt_id"], ds[0]["label"], ds[0]["text"]) == (
        "YAF_bite_ps",
        "surprise",
        "Say the word bite",
    )


def test_4class(root):
    ds, log = load_corpus("tess", root, label_set="4class")
    assert sorted(ds["label"]) == ["anger", "happiness"]
    assert log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="OAF_back_angry.wav"):
        load_tess(tmp_path / "none")


def test_wrong_layout(tmp_path):
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(CorpusLayoutError, match="no audio files found"):
        load_tess(tmp_path)


def test_info():
    assert INFO.protocols == ("tess_emobox", "speaker_kfold")
