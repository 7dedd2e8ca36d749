"""CaFE loader against a fake ``CaFE_48k`` tree, including mojibake folder names."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_corrupt, write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.cafe import INFO, load_cafe

SR = 48_000


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "CaFE"
    write_wav(r / "CaFE_48k/ColŠre/Fort/01-C-2-3.wav", sample_rate=SR, seconds=0.2)  # mojibake folder
    write_wav(r / "CaFE_48k/Neutre/02-N-1-1.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "CaFE_48k/D‚go–t/Faible/04-D-1-6.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "CaFE_48k/Peur/Fort/12-P-2-5.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "CaFE_48k/Peur/Fort/13-P-2-5.wav", sample_rate=SR, seconds=0.2)  # no speaker 13
    write_wav(r / "CaFE_48k/Peur/Fort/05-X-2-5.wav", sample_rate=SR, seconds=0.2)  # unknown letter
    write_wav(r / "CaFE_48k/Peur/Fort/05-P-2-7.wav", sample_rate=SR, seconds=0.2)  # no sentence 7
    write_corrupt(r / "CaFE_48k/Joie/Fort/03-J-2-1.wav")
    (r / "CaFE_48k/readme.txt").write_text("not audio")
    return r


def test_parse(root):
    ds, log = load_corpus("cafe", root)
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"01-C-2-3", "02-N-1-1", "04-D-1-6", "12-P-2-5"}
    c = rows["01-C-2-3"]
    assert (c["label"], c["orig_label"], c["speaker"], c["gender"]) == ("anger", "C", "01", "male")
    assert c["text"] == "Trois cygnes aveugles au bord du lac" and c["language"] == "fr"
    assert c["rel_path"] == "CaFE_48k/ColŠre/Fort/01-C-2-3.wav" and c["sample_rate"] == SR
    assert json.loads(c["meta"]) == {"intensity": "strong", "sentence": "3"}
    n = rows["02-N-1-1"]
    assert (n["label"], n["speaker"], n["gender"]) == ("neutral", "02", "female")
    assert n["text"] == "Un cheval fou dans mon jardin"
    assert json.loads(n["meta"])["intensity"] == "weak"
    assert rows["04-D-1-6"]["label"] == "disgust" and rows["12-P-2-5"]["label"] == "fear"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons["CaFE_48k/Peur/Fort/13-P-2-5.wav"] == "speaker 13 outside 01-12"
    assert reasons["CaFE_48k/Peur/Fort/05-X-2-5.wav"] == "unknown emotion letter X"
    assert reasons["CaFE_48k/Peur/Fort/05-P-2-7.wav"] == "unknown sentence 7"
    assert reasons["CaFE_48k/Joie/Fort/03-J-2-1.wav"].startswith("unreadable audio")
    assert (log.found, log.used, len(log.skipped)) == (8, 4, 4) and log.reconciles()


def test_aiff_edition(tmp_path):
    write_wav(tmp_path / "c/CaFE_192k/Neutre/08-N-1-1.aiff", sample_rate=SR, seconds=0.2)
    ds, log = load_corpus("cafe", tmp_path / "c")
    assert ds["utt_id"] == ["08-N-1-1"] and log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="CaFE_48k"):
        load_cafe(tmp_path / "none")


def test_wrong_layout(tmp_path):
    (tmp_path / "CaFE_48k").mkdir()
    with pytest.raises(CorpusLayoutError, match="no audio files found"):
        load_cafe(tmp_path)


def test_info():
    assert set(INFO.protocols) == {"cafe_emobox", "speaker_kfold"}
