"""Emozionalmente loader: audio/<timestamp>.wav joined with metadata/samples.csv and metadata/users.csv."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.emozionalmente import INFO, load_emozionalmente


def _tree(root, *, users: bool = True):
    write_wav(root / "audio" / "1613655062436.wav", sample_rate=16_000, seconds=0.2)
    write_wav(root / "audio" / "1613655099999.wav", sample_rate=44_100, seconds=0.2)
    write_wav(root / "audio" / "1613655011111.wav", sample_rate=16_000, seconds=0.2)
    write_wav(root / "audio" / "1613655022222.wav", sample_rate=16_000, seconds=0.2)  # not in samples.csv
    write_wav(root / "audio" / "1613655033333.wav", sample_rate=16_000, seconds=0.2)  # unknown emotion
    (root / "metadata").mkdir(parents=True)
    (root / "metadata" / "samples.csv").write_text(
        "file_name,actor,sentence,emotion_expressed,emotion_recognized\n"
        "1613655062436.wav,giulia88,Il cielo è blu.,joy,joy\n"
        "audio/1613655099999.wav,marco_r,Domani piove.,neutrality,\n"
        "1613655011111,giulia88,Non ci credo!,surprise,fear\n"
        "1613655033333.wav,marco_r,Boh.,confusion,\n"
        "1613655000000.wav,marco_r,Row without audio.,anger,\n",
        encoding="utf-8",
    )
    if users:
        (root / "metadata" / "users.csv").write_text(
            "username,gender,age,mother_tongue\ngiulia88,female,27,italian\nmarco_r,male,41,italian\n"
        )
    return root


def test_layout(tmp_path):
    ds, log = load_corpus("emozionalmente", _tree(tmp_path / "emozionalmente"))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"1613655062436", "1613655099999", "1613655011111"}
    j = rows["1613655062436"]
    assert (j["label"], j["orig_label"], j["speaker"], j["gender"]) == (
        "happiness",
        "joy",
        "giulia88",
        "female",
    )
    assert j["text"] == "Il cielo è blu." and j["language"] == "it"
    assert json.loads(j["meta"]) == {"emotion_recognized": "joy", "age": "27"}
    n = rows["1613655099999"]  # file_name given with its folder still joins
    assert (n["label"], n["speaker"], n["gender"], n["sample_rate"]) == ("neutral", "marco_r", "male", 44_100)
    assert rows["1613655011111"]["label"] == "surprise"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons == {
        "audio/1613655022222.wav": "no row in metadata/samples.csv",
        "audio/1613655033333.wav": "unknown emotion_expressed 'confusion'",
    }
    assert (log.found, log.used) == (5, 3) and log.reconciles()


def test_label_set(tmp_path):
    ds, log = load_corpus("emozionalmente", _tree(tmp_path / "e"), label_set="4class")
    assert sorted(ds["label"]) == ["happiness", "neutral"] and log.excluded_by_label_set == 1
    assert log.reconciles()


def test_missing_users_csv(tmp_path):
    with pytest.raises(CorpusLayoutError, match="users.csv"):
        load_emozionalmente(_tree(tmp_path / "e", users=False))


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="metadata/samples.csv"):
        load_emozionalmente(tmp_path / "nowhere")


def test_info():
    assert INFO.languages == ("it",) and len(INFO.labels) == 7
