"""IEMOCAP loader against a fake ``IEMOCAP_full_release`` tree (EmoEvaluation, transcriptions, sentences/wav)."""

from __future__ import annotations

import json
import math

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.iemocap import INFO, load_iemocap

SR = 16_000
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"


def _block(start: str, end: str, utt: str, label: str, vad: str, raters: str = "Neutral") -> str:
    return (
        f"[{start} - {end}]\t{utt}\t{label}\t[{vad}]\n"
        f"C-E2:\t{raters};\t()\n"
        f"C-E3:\t{raters};\t()\n"
        "C-F1:\tAnger;\t(self-evaluation, must not count)\n"
        "A-E3:\tval 3; act 2; dom  2;\t()\n"
        "A-F1:\tval 1; act 5; dom  5;\t()\n"
        "\n"
    )


def _write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def release(tmp_path):
    rel = tmp_path / "IEMOCAP_full_release"
    s1 = rel / "Session1"
    _write(
        s1 / "dialog/EmoEvaluation/Ses01F_impro01.txt",
        HEADER
        + _block("6.2901", "8.2357", "Ses01F_impro01_F000", "neu", "2.5000, 2.5000, 2.5000")
        + _block("10.0100", "11.3925", "Ses01F_impro01_F001", "exc", "3.5000, 4.0000, 3.0000", "Excited")
        + _block("14.8872", "18.0175", "Ses01F_impro01_M002", "fru", "2.0000, 3.5000, 3.5000", "Frustration")
        + _block("19.2900", "20.7875", "Ses01F_impro01_M003", "xxx", "2.5000, 3.0000, 3.0000", "Other")
        + _block("21.0000", "22.0000", "Ses01F_impro01_F005", "sad", "2.0000, 2.0000, 2.0000"),  # no wav
    )
    # AppleDouble twin and a rater sub-folder: both would relabel F000 if they were read.
    bogus = HEADER + _block("6.2901", "8.2357", "Ses01F_impro01_F000", "ang", "1.0000, 1.0000, 1.0000")
    _write(s1 / "dialog/EmoEvaluation/._Ses01F_impro01.txt", bogus)
    _write(s1 / "dialog/EmoEvaluation/Categorical/Ses01F_impro01_e2_cat.txt", bogus)
    _write(
        s1 / "dialog/EmoEvaluation/Ses01M_script01_2.txt",
        HEADER
        + _block("1.0000", "2.5000", "Ses01M_script01_2_F000", "ang", "1.5000, 4.5000, 4.0000", "Anger"),
    )
    _write(
        s1 / "dialog/transcriptions/Ses01F_impro01.txt",
        "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\n"
        "Ses01F_impro01_M002 [014.8872-018.0175]: Do you have your forms?\n"
        "M: [BREATHING]\n",
    )
    wav = s1 / "sentences/wav"
    for utt in ("F000", "F001", "M002", "M003", "F004"):  # F004 has no label
        write_wav(wav / "Ses01F_impro01" / f"Ses01F_impro01_{utt}.wav", sample_rate=SR, seconds=0.2)
    write_wav(wav / "Ses01M_script01_2/Ses01M_script01_2_F000.wav", sample_rate=SR, seconds=0.2)
    (wav / "Ses01F_impro01/._Ses01F_impro01_F000.wav").write_bytes(b"\x00\x05\x16\x07")
    s2 = rel / "Session2"
    _write(
        s2 / "dialog/EmoEvaluation/Ses02F_impro02.txt",
        HEADER
        + _block("0.5000", "1.5000", "Ses02F_impro02_M000", "sad", "1.0000, 2.0000, 2.5000", "Sadness"),
    )
    write_wav(s2 / "sentences/wav/Ses02F_impro02/Ses02F_impro02_M000.wav", sample_rate=SR, seconds=0.2)
    return rel


def _rows(ds):
    return {row["utt_id"]: row for row in ds}


@pytest.mark.parametrize("use_parent", [False, True])
def test_all_labels_fields(release, use_parent):
    ds, log = load_corpus("iemocap", release.parent if use_parent else release, drop_no_majority=False)
    rows = _rows(ds)
    assert set(rows) == {
        "Ses01F_impro01_F000",
        "Ses01F_impro01_F001",
        "Ses01F_impro01_M002",
        "Ses01F_impro01_M003",
        "Ses01M_script01_2_F000",
        "Ses02F_impro02_M000",
    }
    f000 = rows["Ses01F_impro01_F000"]
    assert (f000["label"], f000["orig_label"]) == ("neutral", "neu")  # not the AppleDouble/Categorical "ang"
    assert (f000["speaker"], f000["gender"], f000["session"]) == ("Ses01F", "female", "Ses01")
    assert (f000["valence"], f000["arousal"], f000["dominance"]) == (2.5, 2.5, 2.5)
    assert f000["text"] == "Excuse me." and f000["language"] == "en"
    assert json.loads(f000["meta"]) == {
        "dialog": "Ses01F_impro01",
        "mode": "improvised",
        "start_s": 6.2901,
        "end_s": 8.2357,
    }
    exc = rows["Ses01F_impro01_F001"]
    assert (exc["label"], exc["orig_label"]) == ("excitement", "exc")
    assert (exc["valence"], exc["arousal"], exc["dominance"]) == (3.5, 4.0, 3.0)
    assert exc["text"] == ""  # no transcript line for it
    m002 = rows["Ses01F_impro01_M002"]
    # The utterance speaker is the letter after the last "_", not the dialog's "F".
    assert (m002["speaker"], m002["gender"], m002["label"]) == ("Ses01M", "male", "frustration")
    assert m002["text"] == "Do you have your forms?"
    assert (rows["Ses01F_impro01_M003"]["label"], rows["Ses01F_impro01_M003"]["orig_label"]) == (
        "other",
        "xxx",
    )
    script = rows["Ses01M_script01_2_F000"]
    assert (script["speaker"], script["label"]) == ("Ses01F", "anger")
    assert json.loads(script["meta"])["mode"] == "scripted"
    assert json.loads(script["meta"])["dialog"] == "Ses01M_script01_2"
    s2 = rows["Ses02F_impro02_M000"]
    assert (s2["session"], s2["speaker"], s2["label"]) == ("Ses02", "Ses02M", "sadness")
    prefix = "" if not use_parent else "IEMOCAP_full_release/"
    assert s2["rel_path"] == prefix + "Session2/sentences/wav/Ses02F_impro02/Ses02F_impro02_M000.wav"
    assert [(s.path, s.reason) for s in log.skipped] == [
        (
            prefix + "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F004.wav",
            "no EmoEvaluation label for this utterance",
        )
    ]
    assert (log.found, log.used) == (7, 6)
    assert log.reconciles()


def test_4class_merges_exc_and_drops_fru_xxx(release):
    ds, log = load_corpus("iemocap", release, label_set="4class")
    rows = _rows(ds)
    assert rows["Ses01F_impro01_F001"]["label"] == "happiness"
    assert rows["Ses01F_impro01_F001"]["orig_label"] == "exc"
    assert "Ses01F_impro01_M002" not in rows and "Ses01F_impro01_M003" not in rows
    assert sorted(ds["label"]) == ["anger", "happiness", "neutral", "sadness"]
    assert log.excluded_by_label_set == 2
    assert log.reconciles()


def test_6class_keeps_only_its_labels(release):
    ds, log = load_corpus("iemocap", release, label_set="6class")
    # 6class has no excitement merge: exc, fru and xxx are all outside it.
    assert sorted(ds["label"]) == ["anger", "neutral", "sadness"]
    assert log.excluded_by_label_set == 3 and log.reconciles()


def test_no_majority_dropped_by_default(release):
    ds, log = load_corpus("iemocap", release)
    assert "Ses01F_impro01_M003" not in ds["utt_id"] and "other" not in ds["label"]
    assert log.excluded_by_label_set == 1 and log.used == 5 and log.reconciles()


def test_user_label_map(release):
    ds, log = load_corpus("iemocap", release, label_map={"exc": "happiness", "fru": None, "xxx": "neutral"})
    rows = _rows(ds)
    assert rows["Ses01F_impro01_F001"]["label"] == "happiness"
    assert rows["Ses01F_impro01_F001"]["orig_label"] == "exc"
    assert "Ses01F_impro01_M002" not in rows  # fru -> None
    assert "Ses01F_impro01_M003" not in rows  # drop_no_majority wins over the user's xxx entry
    assert log.excluded_by_label_set == 2 and log.reconciles()


def test_improvised_only(release):
    ds, log = load_corpus("iemocap", release, improvised_only=True, drop_no_majority=False)
    assert "Ses01M_script01_2_F000" not in ds["utt_id"]
    assert {json.loads(m)["mode"] for m in ds["meta"]} == {"improvised"}
    assert len(ds) == 5 and log.found == 6 and log.reconciles()


def test_float_columns_are_nan_free(release):
    ds, _ = load_corpus("iemocap", release)
    assert not any(math.isnan(v) for v in ds["valence"])


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="EmoEvaluation"):
        load_iemocap(tmp_path / "none")


def test_wrong_layout(tmp_path):
    write_wav(tmp_path / "wavs/Ses01F_impro01_F000.wav", sample_rate=SR, seconds=0.2)
    with pytest.raises(CorpusLayoutError, match="no audio files found.*Session1/sentences/wav"):
        load_iemocap(tmp_path)


def test_info():
    assert {"iemocap_session_loso", "iemocap_speaker_loso", "iemocap_emobox", "speaker_kfold"} == set(INFO.protocols)
    assert "excitement" in INFO.labels
