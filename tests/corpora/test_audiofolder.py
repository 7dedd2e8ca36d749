"""AudioFolder corpus: label folders, split folders, metadata.csv, every file accounted for."""

from __future__ import annotations

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import CORPORA, CorpusLayoutError, UnknownLabelsError, load_corpus


def test_label_folders_with_split_folders(tmp_path):
    for rel in ("train/happy/a.wav", "train/Angry/b.WAV", "test/sad/c.wav", "test/neutral/deep/d.flac"):
        write_wav(tmp_path / rel, seconds=0.2)
    write_wav(tmp_path / "train" / "stray.wav", seconds=0.2)  # no label folder
    (tmp_path / "train" / "notes.txt").write_text("not audio, not counted")
    ds, log = load_corpus("audiofolder", tmp_path)
    rows = {r["utt_id"]: r for r in ds}
    assert {k: (r["label"], r["orig_label"], r["split"], r["speaker"]) for k, r in rows.items()} == {
        "train/happy/a": ("happiness", "happy", "train", "unknown"),
        "train/Angry/b": ("anger", "Angry", "train", "unknown"),
        "test/sad/c": ("sadness", "sad", "test", "unknown"),
        "test/neutral/deep/d": ("neutral", "neutral", "test", "unknown"),
    }
    assert [(s.path, s.reason) for s in log.skipped] == [
        ("train/stray.wav", "no label folder (expected root/<label>/file)")
    ]
    assert (log.found, log.used) == (5, 4) and log.reconciles()


def test_metadata_csv_lists_speakers_split_and_dimensions(tmp_path):
    for name in ("a.wav", "b.wav", "c.wav", "extra.wav"):
        write_wav(tmp_path / "clips" / name, seconds=0.2)
    (tmp_path / "metadata.csv").write_text(
        "file_name,label,speaker,split,arousal\n"
        "clips/a.wav,HAPPY,s1,train,0.5\n"
        "clips/b.wav,ang,s2,dev,\n"
        "clips/c.wav,bored_maybe,s3,test,\n"
        "clips/gone.wav,sad,s3,test,\n"
    )
    with pytest.raises(UnknownLabelsError, match=r"'bored_maybe' \(1 clip\).*label_map: \{bored_maybe: null\}"):
        load_corpus("audiofolder", tmp_path)
    ds, log = load_corpus("audiofolder", tmp_path, label_map={"bored_maybe": None})
    rows = {r["utt_id"]: r for r in ds}
    assert {k: (r["label"], r["speaker"], r["split"]) for k, r in rows.items()} == {
        "clips/a": ("happiness", "s1", "train"),
        "clips/b": ("anger", "s2", "dev"),
    }
    assert rows["clips/a"]["arousal"] == pytest.approx(0.5)
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons == {"clips/gone.wav": "missing file", "clips/extra.wav": "not listed in metadata.csv"}
    assert (log.found, log.used, log.excluded_by_label_set) == (5, 2, 1) and log.reconciles()


def test_no_speakers_and_no_split_is_refused_with_the_fix(tmp_path):
    write_wav(tmp_path / "happy" / "a.wav", seconds=0.2)
    write_wav(tmp_path / "sad" / "b.wav", seconds=0.2)
    with pytest.raises(CorpusLayoutError, match=r"options: \{speakers: unknown\}"):
        load_corpus("audiofolder", tmp_path)
    ds, _ = load_corpus("audiofolder", tmp_path, speakers="unknown")
    assert sorted(ds["label"]) == ["happiness", "sadness"]


def test_missing_root_and_registry(tmp_path):
    with pytest.raises(CorpusLayoutError, match="does not exist"):
        load_corpus("audiofolder", tmp_path / "nowhere")
    assert "predefined" in CORPORA["audiofolder"].info.protocols
