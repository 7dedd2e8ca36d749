"""ESD loader against fake trees: flat and train/evaluation/test layouts, per-speaker transcript encodings."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.esd import INFO, load_esd

SR = 16_000


def _transcripts(root):
    (root / "0011").mkdir(parents=True, exist_ok=True)
    (root / "0001").mkdir(parents=True, exist_ok=True)
    (root / "0005").mkdir(parents=True, exist_ok=True)
    (root / "0011" / "0011.txt").write_text(
        "0011_000001\tThe nine the eggs, I keep.\tNeutral\n"
        "0011_000351 Chapter fifteen. Angry\n"  # malformed: spaces instead of tabs
        "garbage line without an id\n",
        encoding="utf-16",
    )
    (root / "0001" / "0001.txt").write_bytes(
        "0001_000701\t打远一看，它们的确很是美丽，\t快乐\n".encode("gb2312")
    )
    (root / "0005" / "0005.txt").write_bytes("0005_001401\tCafé au lait\tSurprise\n".encode("latin-1"))


def _flat_tree(root):
    write_wav(root / "0011" / "Neutral" / "0011_000001.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0011" / "Angry" / "0011_000351.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0001" / "Happy" / "0001_000701.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0005" / "Surprise" / "0005_001401.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0016" / "Sad" / "0016_001400.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0011" / "Sad" / "0011_001751.wav", sample_rate=SR, seconds=0.2)  # out of range
    write_wav(root / "0011" / "Sad" / "0011_1751.wav", sample_rate=SR, seconds=0.2)  # bad name
    _transcripts(root)
    return root


def test_flat_layout(tmp_path):
    ds, log = load_corpus("esd", _flat_tree(tmp_path / "ESD"))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"0011_000001", "0011_000351", "0001_000701", "0005_001401", "0016_001400"}
    n = rows["0011_000001"]
    assert (n["label"], n["orig_label"], n["speaker"], n["gender"], n["language"]) == (
        "neutral",
        "Neutral",
        "0011",
        "male",
        "en",
    )
    assert n["text"] == "The nine the eggs, I keep." and n["split"] == ""
    assert json.loads(n["meta"]) == {"utterance": "000001"}
    a = rows["0011_000351"]
    assert (a["label"], a["text"]) == ("anger", "Chapter fifteen.")  # utf-16, no tabs, emotion word stripped
    h = rows["0001_000701"]
    assert (h["label"], h["gender"], h["language"], h["text"]) == (
        "happiness",
        "female",
        "zh",
        "打远一看，它们的确很是美丽，",
    )
    s = rows["0005_001401"]
    assert (s["label"], s["gender"], s["language"], s["text"]) == ("surprise", "male", "zh", "Café au lait")
    sad = rows["0016_001400"]
    assert (sad["label"], sad["gender"], sad["text"]) == ("sadness", "female", "")  # no transcript file
    reasons = {x.path: x.reason for x in log.skipped}
    assert reasons["0011/Sad/0011_001751.wav"].startswith("speaker or utterance number out of range")
    assert reasons["0011/Sad/0011_1751.wav"].startswith("unparseable file name")
    assert (log.found, log.used, len(log.skipped)) == (7, 5, 2)
    assert log.reconciles()


def test_split_subfolders(tmp_path):
    root = tmp_path / "ESD"
    write_wav(root / "0011" / "Angry" / "train" / "0011_000351.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0011" / "Angry" / "evaluation" / "0011_000651.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0011" / "Angry" / "test" / "0011_000700.wav", sample_rate=SR, seconds=0.2)
    ds, log = load_corpus("esd", root)
    rows = {r["utt_id"]: r for r in ds}
    assert {k: r["split"] for k, r in rows.items()} == {
        "0011_000351": "train",
        "0011_000651": "validation",
        "0011_000700": "test",
    }
    assert json.loads(rows["0011_000651"]["meta"])["split_folder"] == "evaluation"
    assert set(ds["label"]) == {"anger"} and log.reconciles()


def test_both_copies_in_one_tree(tmp_path):
    root = tmp_path / "ESD"
    write_wav(root / "0011" / "Angry" / "0011_000351.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "0011" / "Angry" / "train" / "0011_000351.wav", sample_rate=SR, seconds=0.2)
    ds, log = load_corpus("esd", root)
    assert ds["utt_id"] == ["0011_000351"]
    assert [s.reason for s in log.skipped] == ["duplicate of utterance 0011_000351"]
    assert log.reconciles()


def test_label_set(tmp_path):
    ds, log = load_corpus("esd", _flat_tree(tmp_path / "ESD"), label_set="4class")
    assert sorted(ds["label"]) == ["anger", "happiness", "neutral", "sadness"]
    assert log.excluded_by_label_set == 1 and log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="0011/Angry/0011_000351.wav"):
        load_esd(tmp_path / "nowhere")


def test_info():
    assert INFO.languages == ("zh", "en") and set(INFO.protocols) == {"esd_emobox", "speaker_kfold"}
