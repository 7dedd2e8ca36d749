"""SAVEE loader against the original ``AudioData/<spk>/`` layout and the flat Kaggle repack."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.savee import INFO, load_savee

SR = 44_100


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "SAVEE"
    write_wav(r / "AudioData/DC/sa01.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "AudioData/DC/a01.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "AudioData/KL/n30.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "JK_su15.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "JE_h03.wav", sample_rate=SR, seconds=0.2)
    write_wav(r / "DC_sa01.wav", sample_rate=SR, seconds=0.2)  # same clip in both layouts
    write_wav(r / "AudioData/XX/a01.wav", sample_rate=SR, seconds=0.2)  # unknown speaker folder
    write_wav(r / "JK_zz01.wav", sample_rate=SR, seconds=0.2)  # unknown emotion code
    return r


def test_both_layouts(root):
    ds, log = load_corpus("savee", root)
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"DC_sa01", "DC_a01", "KL_n30", "JK_su15", "JE_h03"}
    sa = rows["DC_sa01"]
    assert (sa["label"], sa["orig_label"], sa["speaker"], sa["gender"]) == ("sadness", "sa", "DC", "male")
    assert sa["rel_path"] == "AudioData/DC/sa01.wav" and sa["sample_rate"] == SR and sa["language"] == "en"
    assert json.loads(sa["meta"]) == {"sentence": "01"}
    su = rows["JK_su15"]
    assert (su["label"], su["speaker"], su["rel_path"]) == ("surprise", "JK", "JK_su15.wav")
    assert rows["DC_a01"]["label"] == "anger" and rows["KL_n30"]["label"] == "neutral"
    assert rows["JE_h03"]["label"] == "happiness"
    assert set(ds["gender"]) == {"male"}
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons["DC_sa01.wav"] == "duplicate of utterance DC_sa01"
    assert reasons["AudioData/XX/a01.wav"].startswith("unparseable file name")
    assert reasons["JK_zz01.wav"] == "unknown emotion code zz"
    assert (log.found, log.used, len(log.skipped)) == (8, 5, 3)
    assert log.reconciles()


def test_6class(root):
    ds, log = load_corpus("savee", root, label_set="6class")
    assert "surprise" not in ds["label"] and len(ds) == 4
    assert log.excluded_by_label_set == 1 and log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="AudioData/DC/sa01.wav"):
        load_savee(tmp_path / "none")


def test_wrong_layout(tmp_path):
    (tmp_path / "AudioData").mkdir()
    with pytest.raises(CorpusLayoutError, match="no audio files found"):
        load_savee(tmp_path)


def test_info():
    assert set(INFO.protocols) == {"savee_loso", "savee_emobox", "speaker_kfold"}
