"""RAVDESS loader against a fake tree in the real distribution layout (speech + song zips)."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_corrupt, write_wav

from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.ravdess import INFO, load_ravdess

SR = 48_000
SPEECH = "Audio_Speech_Actors_01-24"
SONG = "Audio_Song_Actors_01-24"


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "ravdess"
    write_wav(r / SPEECH / "Actor_01/03-01-01-01-01-01-01.wav", sample_rate=SR, seconds=0.3)
    write_wav(r / SPEECH / "Actor_02/03-01-08-02-02-02-02.wav", sample_rate=SR, seconds=0.3)
    write_wav(r / SPEECH / "Actor_02/03-01-02-01-01-01-02.wav", sample_rate=SR, seconds=0.3)  # calm
    write_wav(r / SPEECH / "Actor_01/03-01-05-02-01-01-01.wav", sample_rate=SR, seconds=0.3)  # angry
    write_wav(r / SONG / "Actor_01/03-02-06-02-02-02-01.wav", sample_rate=SR, seconds=0.3)
    write_wav(r / SONG / "Actor_02/03-02-07-01-01-01-02.wav", sample_rate=SR, seconds=0.3)  # song+disgust
    # Kaggle-style second copy of one file under another folder: de-duplicated by file name.
    write_wav(r / "audio_speech_actors_01-24/Actor_01/03-01-01-01-01-01-01.wav", sample_rate=SR, seconds=0.3)
    write_wav(r / SPEECH / "Actor_01/notes.wav", sample_rate=SR, seconds=0.3)  # not a RAVDESS name
    write_corrupt(r / SPEECH / "Actor_02/03-01-04-01-01-01-02.wav")
    (r / SPEECH / "Actor_01/._03-01-01-01-01-01-01.wav").write_bytes(b"\x00\x05\x16\x07")  # AppleDouble
    return r


def _rows(ds):
    return {row["utt_id"]: row for row in ds}


def test_speech_fields_from_file_name(root):
    ds, log = load_corpus("ravdess", root)
    rows = _rows(ds)
    assert set(rows) == {
        "03-01-01-01-01-01-01",
        "03-01-08-02-02-02-02",
        "03-01-02-01-01-01-02",
        "03-01-05-02-01-01-01",
    }
    first = rows["03-01-01-01-01-01-01"]
    assert (first["label"], first["orig_label"], first["speaker"], first["gender"]) == (
        "neutral",
        "01",
        "01",
        "male",
    )
    assert first["text"] == "Kids are talking by the door"
    assert first["rel_path"] == f"{SPEECH}/Actor_01/03-01-01-01-01-01-01.wav"  # sorted: the zip copy wins
    assert first["sample_rate"] == SR and first["language"] == "en" and first["corpus"] == "ravdess"
    assert first["duration_s"] == pytest.approx(0.3, abs=1e-3)
    second = rows["03-01-08-02-02-02-02"]
    assert (second["label"], second["speaker"], second["gender"]) == ("surprise", "02", "female")
    assert second["text"] == "Dogs are sitting by the door"
    meta = json.loads(second["meta"])
    assert meta == {
        "modality": "audio-only",
        "vocal_channel": "speech",
        "intensity": "strong",
        "statement": "02",
        "repetition": "02",
    }
    assert rows["03-01-02-01-01-01-02"]["label"] == "calm"


def test_skips_and_reconciliation(root):
    ds, log = load_corpus("ravdess", root)
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons[f"{SPEECH}/Actor_01/notes.wav"].startswith("unparseable file name")
    assert reasons["audio_speech_actors_01-24/Actor_01/03-01-01-01-01-01-01.wav"].startswith("duplicate")
    assert reasons[f"{SPEECH}/Actor_02/03-01-04-01-01-01-02.wav"].startswith("unreadable audio")
    assert not any("._" in p for p in reasons)  # AppleDouble files are never even found
    assert (log.found, log.used, len(log.skipped)) == (7, 4, 3)
    assert log.reconciles()


def test_song_channel_rejects_disgust(root):
    ds, log = load_corpus("ravdess", root, vocal_channel="song")
    assert ds["utt_id"] == ["03-02-06-02-02-02-01"]
    assert json.loads(ds[0]["meta"])["vocal_channel"] == "song"
    assert ds[0]["label"] == "fear"
    reasons = {s.path: s.reason for s in log.skipped}
    assert (
        reasons[f"{SONG}/Actor_02/03-02-07-01-01-01-02.wav"]
        == "song has no emotion 07 (disgust); misnamed file"
    )
    assert not any(p.startswith(SPEECH) and "notes" not in p for p in reasons)  # speech files are not found
    assert log.reconciles()


def test_both_channels(root):
    ds, log = load_corpus("ravdess", root, vocal_channel="both")
    channels = sorted(json.loads(m)["vocal_channel"] for m in ds["meta"])
    assert channels == ["song", "speech", "speech", "speech", "speech"]
    assert log.reconciles() and log.found == 9


def test_bad_vocal_channel(root):
    with pytest.raises(ValueError, match="vocal_channel"):
        load_ravdess(root, vocal_channel="singing")


@pytest.mark.parametrize(
    ("label_set", "expected", "excluded"),
    [
        ("all", {"neutral", "surprise", "calm", "anger"}, 0),
        ("4class", {"neutral", "anger"}, 2),
        ("6class", {"neutral", "anger"}, 2),
        (
            ["calm", "surprise"],
            {"calm", "surprise"},
            4,
        ),  # both neutral copies + anger + the unread corrupt file
    ],
)
def test_label_sets(root, label_set, expected, excluded):
    ds, log = load_corpus("ravdess", root, label_set=label_set)
    assert set(ds["label"]) == expected
    assert log.excluded_by_label_set == excluded
    assert log.reconciles()


def test_user_label_map_calm_to_neutral(root):
    ds, log = load_corpus("ravdess", root, label_set="4class", label_map={"calm": "neutral"})
    rows = _rows(ds)
    assert rows["03-01-02-01-01-01-02"]["label"] == "neutral"
    assert rows["03-01-02-01-01-01-02"]["orig_label"] == "02"
    assert log.excluded_by_label_set == 1  # only surprise is left out now
    assert log.reconciles()


def test_missing_root_names_expected_layout(tmp_path):
    with pytest.raises(CorpusLayoutError, match="Actor_01/03-01-01-01-01-01-01.wav"):
        load_ravdess(tmp_path / "nope")


def test_wrong_layout_names_expected_layout(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other/readme.txt").write_text("not a corpus")
    with pytest.raises(CorpusLayoutError, match="no audio files found.*MM-VV-EE-II-SS-RR-AA"):
        load_ravdess(tmp_path / "other")


def test_info():
    assert INFO.name == "ravdess" and INFO.languages == ("en",)
    assert {"ravdess_luna5", "ravdess_emobox6", "speaker_kfold"} <= set(INFO.protocols)
