"""URDU loader against a fake tree in the repository layout (Angry/ Happy/ Neutral/ Sad/)."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.urdu import INFO, load_urdu

SR = 44_100


def _tree(root):
    write_wav(root / "Angry" / "SM4_F16_A068.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "Happy" / "SF2_F01_H001.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "Neutral" / "SM4_F17_N010.wav", sample_rate=SR, seconds=0.2)
    # the folder is wrong; the name says sad, and only the name counts
    write_wav(root / "Happy" / "SF2_F02_S005.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "Sad" / "SM4_F16_X068.wav", sample_rate=SR, seconds=0.2)  # no emotion X
    return root


def test_layout(tmp_path):
    ds, log = load_corpus("urdu", _tree(tmp_path / "URDU-Dataset"))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"SM4_F16_A068", "SF2_F01_H001", "SM4_F17_N010", "SF2_F02_S005"}
    a = rows["SM4_F16_A068"]
    assert (a["label"], a["orig_label"], a["speaker"], a["gender"]) == ("anger", "A", "SM4", "male")
    assert a["language"] == "ur" and a["sample_rate"] == SR and a["rel_path"] == "Angry/SM4_F16_A068.wav"
    assert json.loads(a["meta"]) == {"file_number": 16, "emotion_index": 68, "speech": "talk show"}
    assert (rows["SF2_F01_H001"]["label"], rows["SF2_F01_H001"]["gender"]) == ("happiness", "female")
    assert rows["SF2_F02_S005"]["label"] == "sadness"
    assert sorted({r["speaker"] for r in ds}) == ["SF2", "SM4"]
    assert [(s.path, s.reason.split(" (")[0]) for s in log.skipped] == [
        ("Sad/SM4_F16_X068.wav", "unparseable file name")
    ]
    assert (log.found, log.used) == (5, 4) and log.reconciles()


def test_label_map(tmp_path):
    ds, log = load_corpus("urdu", _tree(tmp_path / "u"), label_map={"N": None, "happiness": "neutral"})
    assert sorted(ds["label"]) == ["anger", "neutral", "sadness"] and log.excluded_by_label_set == 1
    assert log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="SM4_F16_A068"):
        load_urdu(tmp_path / "nowhere")


def test_info():
    assert INFO.labels == ("anger", "happiness", "neutral", "sadness")
