"""MESD loader against a fake flat folder (file names only)."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.mesd import INFO, load_mesd

SR = 48_000


def _tree(root):
    folder = root / "Mexican Emotional Speech Database (MESD)"
    write_wav(folder / "Neutral_M_B_chulo.wav", sample_rate=SR, seconds=0.2)
    write_wav(folder / "Anger_F_A_abajo.wav", sample_rate=SR, seconds=0.2)
    write_wav(folder / "Sadness_C_A_hola_mundo.wav", sample_rate=SR, seconds=0.2)  # word holds "_"
    write_wav(folder / "Disgust_X_A_casa.wav", sample_rate=SR, seconds=0.2)  # unknown voice
    write_wav(folder / "Boredom_F_A_casa.wav", sample_rate=SR, seconds=0.2)  # unknown emotion
    write_wav(folder / "Fear_F_A.wav", sample_rate=SR, seconds=0.2)  # no word
    return root


def test_layout(tmp_path):
    ds, log = load_corpus("mesd", _tree(tmp_path / "mesd"))
    rows = {r["utt_id"]: r for r in ds}
    assert set(rows) == {"Neutral_M_B_chulo", "Anger_F_A_abajo", "Sadness_C_A_hola_mundo"}
    n = rows["Neutral_M_B_chulo"]
    assert (n["label"], n["orig_label"], n["speaker"], n["gender"], n["text"]) == (
        "neutral",
        "Neutral",
        "M",
        "male",
        "chulo",
    )
    assert n["language"] == "es" and n["sample_rate"] == SR
    assert json.loads(n["meta"]) == {"voice": "adult male", "word_corpus": "B"}
    c = rows["Sadness_C_A_hola_mundo"]
    assert (c["label"], c["speaker"], c["gender"], c["text"]) == ("sadness", "C", "unknown", "hola_mundo")
    assert json.loads(c["meta"])["voice"] == "child"
    assert rows["Anger_F_A_abajo"]["gender"] == "female"
    reasons = {s.path.split("/")[-1]: s.reason for s in log.skipped}
    assert reasons["Disgust_X_A_casa.wav"].startswith("unknown voice code 'X'")
    assert reasons["Boredom_F_A_casa.wav"].startswith("unknown emotion 'Boredom'")
    assert reasons["Fear_F_A.wav"].startswith("unparseable file name")
    assert (log.found, log.used, len(log.skipped)) == (6, 3, 3)
    assert log.reconciles()


def test_label_set(tmp_path):
    ds, log = load_corpus("mesd", _tree(tmp_path / "mesd"), label_set=["anger"])
    assert ds["label"] == ["anger"] and log.excluded_by_label_set == 2 and log.reconciles()


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="Neutral_M_B_chulo"):
        load_mesd(tmp_path / "nowhere")


def test_info():
    assert INFO.languages == ("es",) and "speaker_kfold" in INFO.protocols
