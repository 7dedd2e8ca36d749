"""SUBESCO loader against a fake flat folder with mixed 44.1/48 kHz files."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.subesco import INFO, load_subesco


def _tree(root):
    write_wav(root / "M_04_BIBHAS_S_5_DISGUST_2.wav", sample_rate=44_100, seconds=0.2)
    write_wav(root / "F_10_TITHI_S_10_SURPRISE_5.wav", sample_rate=48_000, seconds=0.2)
    write_wav(root / "F_03_MOUMITA_S_1_HAPPY_1.wav", sample_rate=48_000, seconds=0.2)
    write_wav(root / "M_04_BIBHAS_S_5_BORED_2.wav", sample_rate=44_100, seconds=0.2)  # unknown emotion
    write_wav(root / "M_04_BIBHAS_5_DISGUST_2.wav", sample_rate=44_100, seconds=0.2)  # no S_
    return root


def test_layout(tmp_path):
    ds, log = load_corpus("subesco", _tree(tmp_path / "SUBESCO"))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {
        "M_04_BIBHAS_S_5_DISGUST_2",
        "F_10_TITHI_S_10_SURPRISE_5",
        "F_03_MOUMITA_S_1_HAPPY_1",
    }
    d = rows["M_04_BIBHAS_S_5_DISGUST_2"]
    assert (d["label"], d["orig_label"], d["speaker"], d["gender"]) == ("disgust", "DISGUST", "M_04", "male")
    assert d["sample_rate"] == 44_100 and d["language"] == "bn" and d["text"] == ""
    assert json.loads(d["meta"]) == {"speaker_name": "BIBHAS", "sentence": 5, "take": 2}
    s = rows["F_10_TITHI_S_10_SURPRISE_5"]
    assert (s["label"], s["speaker"], s["gender"], s["sample_rate"]) == ("surprise", "F_10", "female", 48_000)
    assert rows["F_03_MOUMITA_S_1_HAPPY_1"]["label"] == "happiness"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons["M_04_BIBHAS_S_5_BORED_2.wav"].startswith("unknown emotion 'BORED'")
    assert reasons["M_04_BIBHAS_5_DISGUST_2.wav"].startswith("unparseable file name")
    assert (log.found, log.used, len(log.skipped)) == (5, 3, 2)
    assert log.reconciles()


def test_label_set(tmp_path):
    ds, log = load_corpus("subesco", _tree(tmp_path / "SUBESCO"), label_set="6class")
    assert sorted(ds["label"]) == ["disgust", "happiness"] and log.excluded_by_label_set == 1
    assert log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="M_04_BIBHAS_S_5_DISGUST_2"):
        load_subesco(tmp_path / "nowhere")


def test_info():
    assert INFO.languages == ("bn",) and set(INFO.protocols) == {"subesco_emobox", "speaker_kfold"}


def test_stray_bracket_of_the_distributed_copy_still_parses(tmp_path):
    write_wav(tmp_path / "F_02_MONIKA_S_2_SURPRISE_3].wav", sample_rate=48_000, seconds=0.1)
    ds, log = load_corpus("subesco", tmp_path)
    assert log.skipped == [] and log.used == 1
    (row,) = list(ds)
    assert row["utt_id"] == "F_02_MONIKA_S_2_SURPRISE_3"
    assert (row["speaker"], row["label"], row["gender"]) == ("F_02", "surprise", "female")
    meta = json.loads(row["meta"])
    assert (meta["sentence"], meta["take"], meta["speaker_name"]) == (2, 3, "MONIKA")
