"""EMO-DB loader against fake trees in the official ``wav/`` layout and the ``wav_corpus/`` repack."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_corrupt, write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.emodb import INFO, load_emodb

SR = 16_000


def _tree(root, folder: str = "wav"):
    write_wav(root / folder / "03a01Fa.wav", sample_rate=SR, seconds=0.3)
    write_wav(root / folder / "16b10Wb.wav", sample_rate=SR, seconds=0.3)
    write_wav(root / folder / "08a02Lc.wav", sample_rate=SR, seconds=0.3)  # boredom
    write_wav(root / folder / "03a03Fa.wav", sample_rate=SR, seconds=0.3)  # a03 does not exist
    write_wav(root / folder / "99a01Fa.wav", sample_rate=SR, seconds=0.3)  # unknown speaker
    write_wav(root / folder / "03a01Xa.wav", sample_rate=SR, seconds=0.3)  # unknown emotion letter
    write_wav(root / folder / "readme.wav", sample_rate=SR, seconds=0.3)
    write_corrupt(root / folder / "09b01Ta.wav")
    (root / "erkennung.txt").write_text("dummy")
    return root


@pytest.mark.parametrize("folder", ["wav", "wav_corpus"])
def test_both_layouts(tmp_path, folder):
    ds, log = load_corpus("emodb", _tree(tmp_path / "emodb", folder))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"03a01Fa", "16b10Wb", "08a02Lc"}
    a = rows["03a01Fa"]
    assert (a["label"], a["orig_label"], a["speaker"], a["gender"]) == ("happiness", "F", "03", "male")
    assert a["text"] == "Der Lappen liegt auf dem Eisschrank."
    assert a["rel_path"] == f"{folder}/03a01Fa.wav" and a["language"] == "de" and a["sample_rate"] == SR
    assert json.loads(a["meta"]) == {"text_code": "a01", "version": "a", "age": 31}
    b = rows["16b10Wb"]
    assert (b["label"], b["speaker"], b["gender"]) == ("anger", "16", "female")
    assert b["text"] == "Die wird auf dem Platz sein, wo wir sie immer hinlegen."
    assert rows["08a02Lc"]["label"] == "boredom"
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons[f"{folder}/03a03Fa.wav"] == "unknown text code a03"
    assert reasons[f"{folder}/99a01Fa.wav"] == "unknown speaker 99"
    assert reasons[f"{folder}/03a01Xa.wav"] == "unknown emotion letter X"
    assert reasons[f"{folder}/readme.wav"].startswith("unparseable file name")
    assert reasons[f"{folder}/09b01Ta.wav"].startswith("unreadable audio")
    assert (log.found, log.used, len(log.skipped)) == (8, 3, 5)
    assert log.reconciles()


def test_6class_drops_boredom(tmp_path):
    ds, log = load_corpus("emodb", _tree(tmp_path / "emodb"), label_set="6class")
    assert sorted(ds["label"]) == ["anger", "happiness"]
    assert log.excluded_by_label_set == 1
    assert log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="wav_corpus"):
        load_emodb(tmp_path / "none")


def test_wrong_layout(tmp_path):
    (tmp_path / "lablaut").mkdir()
    (tmp_path / "lablaut" / "03a01Fa.lab").write_text("x")
    with pytest.raises(CorpusLayoutError, match="no audio files found.*03a01Fa.wav"):
        load_emodb(tmp_path)


def test_info():
    assert INFO.languages == ("de",) and "boredom" in INFO.labels
    assert set(INFO.protocols) == {"emodb_loso", "emodb_emobox", "speaker_kfold"}
