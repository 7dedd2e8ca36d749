"""ShEMO loader against a fake tree in the GitHub layout (male/, female/, transcript/final text/)."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_corrupt, write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.shemo import INFO, load_shemo


def _tree(root):
    write_wav(root / "male" / "M12A29.wav", sample_rate=44_100, seconds=0.2)
    write_wav(root / "male" / "M27N01.wav", sample_rate=22_050, seconds=0.2)  # the 22.05 kHz speakers
    write_wav(root / "female" / "F12W03.wav", sample_rate=44_100, seconds=0.2)
    write_wav(root / "female" / "F03F07.wav", sample_rate=44_100, seconds=0.2)  # fear, 29 clips in all
    write_wav(root / "female" / "F03X07.wav", sample_rate=44_100, seconds=0.2)  # no emotion X
    write_wav(root / "female" / "._F12W03.wav", sample_rate=44_100, seconds=0.2)  # AppleDouble: ignored
    write_corrupt(root / "male" / "M01S02.wav")
    ort = root / "transcript" / "final text"
    ort.mkdir(parents=True)
    # UTF-8 with BOM, a right-to-left mark and a line break, as in the distribution
    (ort / "M12A29.ort").write_bytes("\ufeff\u200fسلام  دنیا\u200e\n".encode())
    return root


def test_layout(tmp_path):
    ds, log = load_corpus("shemo", _tree(tmp_path / "ShEMO"))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"M12A29", "M27N01", "F12W03", "F03F07"}
    a = rows["M12A29"]
    assert (a["label"], a["orig_label"], a["speaker"], a["gender"]) == ("anger", "A", "M12", "male")
    assert a["text"] == "سلام دنیا"
    assert a["language"] == "fa" and a["sample_rate"] == 44_100 and a["rel_path"] == "male/M12A29.wav"
    assert json.loads(a["meta"]) == {"utterance": "29"}
    assert rows["M27N01"]["sample_rate"] == 22_050 and rows["M27N01"]["text"] == ""
    w = rows["F12W03"]
    # same number, other gender: a different speaker
    assert (w["label"], w["speaker"], w["gender"]) == ("surprise", "F12", "female")
    assert rows["F03F07"]["label"] == "fear"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons["female/F03X07.wav"].startswith("unparseable file name")
    assert reasons["male/M01S02.wav"].startswith("unreadable audio")
    assert (log.found, log.used, len(log.skipped)) == (6, 4, 2)
    assert log.reconciles()


def test_label_set_excludes(tmp_path):
    ds, log = load_corpus("shemo", _tree(tmp_path / "ShEMO"), label_set="4class")
    assert sorted(ds["label"]) == ["anger", "neutral"]
    assert log.excluded_by_label_set == 2  # surprise, fear
    assert log.reconciles()


def test_label_map_on_code(tmp_path):
    ds, log = load_corpus("shemo", _tree(tmp_path / "ShEMO"), label_map={"F": None})
    assert "fear" not in ds["label"] and log.excluded_by_label_set == 1


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="male/M12A29.wav"):
        load_shemo(tmp_path / "nowhere")


def test_no_audio(tmp_path):
    (tmp_path / "transcript").mkdir()
    with pytest.raises(CorpusLayoutError, match="no audio files found"):
        load_shemo(tmp_path)


def test_info():
    assert INFO.languages == ("fa",) and len(INFO.labels) == 6 and INFO.protocols == ("shemo_emobox", "speaker_kfold")
