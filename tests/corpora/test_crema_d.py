"""CREMA-D loader against a fake checkout of the GitHub repository (AudioWAV/ + VideoDemographics.csv)."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import write_corrupt, write_lfs_pointer, write_wav

from hf_ser.audio import GitLfsPointerError
from hf_ser.corpora import CorpusLayoutError, load_corpus
from hf_ser.corpora.crema_d import INFO, load_crema_d

SR = 16_000
DEMOGRAPHICS = (
    '"ActorID","Age","Sex","Race","Ethnicity"\n'
    '1001,51,"Male","Caucasian","Not Hispanic"\n'
    '1040,30,"Female","Asian","Not Hispanic"\n'
    '1076,25,"Female","African American","Not Hispanic"\n'
)


def _tree(root, *, demographics: bool = True, audio_parent: str = ""):
    wav_dir = root / audio_parent / "AudioWAV" if audio_parent else root / "AudioWAV"
    write_wav(wav_dir / "1001_DFA_ANG_XX.wav", sample_rate=SR, seconds=0.3)
    write_wav(wav_dir / "1001_IEO_HAP_HI.wav", sample_rate=SR, seconds=0.3)
    write_wav(wav_dir / "1001_IEO_NEU_XX.wav", sample_rate=SR, seconds=0.3)
    write_wav(wav_dir / "1076_MTI_SAD_XX.wav", sample_rate=SR, seconds=0.3, kind="silence")
    write_wav(wav_dir / "1040_ITH_SAD_X.wav", sample_rate=SR, seconds=0.3)  # legacy 1-char level
    write_wav(wav_dir / "1040_ITH_DIS_XX.wav", sample_rate=SR, seconds=0.3)
    write_wav(wav_dir / "1001_DFA_XYZ_XX.wav", sample_rate=SR, seconds=0.3)  # unknown emotion
    write_corrupt(wav_dir / "1040_TIE_FEA_XX.wav")
    write_wav(root / "AudioMP3" / "1001_DFA_ANG_XX.wav", sample_rate=SR, seconds=0.3)  # not AudioWAV: ignored
    if demographics:
        (root / "VideoDemographics.csv").write_text(DEMOGRAPHICS)
    return root


def _rows(ds):
    return {row["utt_id"]: row for row in ds}


def test_parse_clips_and_demographics(tmp_path):
    root = _tree(tmp_path / "CREMA-D")
    ds, log = load_corpus("crema_d", root)
    rows = _rows(ds)
    assert set(rows) == {
        "1001_DFA_ANG_XX",
        "1001_IEO_HAP_HI",
        "1001_IEO_NEU_XX",
        "1040_ITH_SAD_XX",
        "1040_ITH_DIS_XX",
    }
    ang = rows["1001_DFA_ANG_XX"]
    assert (ang["label"], ang["orig_label"], ang["speaker"], ang["gender"]) == (
        "anger",
        "ANG",
        "1001",
        "male",
    )
    assert ang["text"] == "Don't forget a jacket"
    assert ang["rel_path"] == "AudioWAV/1001_DFA_ANG_XX.wav" and ang["sample_rate"] == SR
    assert json.loads(ang["meta"]) == {
        "sentence": "DFA",
        "level": "XX",
        "age": "51",
        "race": "Caucasian",
        "ethnicity": "Not Hispanic",
    }
    hap = rows["1001_IEO_HAP_HI"]
    assert hap["label"] == "happiness" and hap["text"] == "It's eleven o'clock"
    assert json.loads(hap["meta"])["level"] == "HI"
    legacy = rows["1040_ITH_SAD_XX"]
    assert legacy["rel_path"] == "AudioWAV/1040_ITH_SAD_X.wav"  # normalised id, original file
    assert (legacy["gender"], legacy["label"]) == ("female", "sadness")


def test_known_silent_file_and_skips(tmp_path):
    ds, log = load_corpus("crema_d", _tree(tmp_path / "CREMA-D"))
    reasons = {s.path: s.reason for s in log.skipped}
    assert reasons == {
        "AudioWAV/1076_MTI_SAD_XX.wav": "known silent file (CREMA-D README)",
        "AudioWAV/1001_DFA_XYZ_XX.wav": "unknown emotion code XYZ",
        "AudioWAV/1040_TIE_FEA_XX.wav": reasons["AudioWAV/1040_TIE_FEA_XX.wav"],
    }
    assert reasons["AudioWAV/1040_TIE_FEA_XX.wav"].startswith("unreadable audio")
    assert (log.found, log.used) == (8, 5)
    assert log.reconciles()


def test_known_silent_file_skipped_even_with_label_set(tmp_path):
    ds, log = load_corpus("crema_d", _tree(tmp_path / "CREMA-D"), label_set="4class")
    assert "1076_MTI_SAD_XX" not in ds["utt_id"]
    assert any(s.reason == "known silent file (CREMA-D README)" for s in log.skipped)
    assert set(ds["label"]) == {"anger", "happiness", "neutral", "sadness"}
    assert log.excluded_by_label_set == 2  # disgust, and the corrupt fear file (never read)
    assert log.reconciles()


def test_located_by_glob_and_no_demographics(tmp_path):
    root = _tree(tmp_path / "repo", demographics=False, audio_parent="data")
    ds, log = load_corpus("crema_d", root)
    assert len(ds) == 5
    assert set(ds["gender"]) == {"unknown"}
    assert ds[0]["rel_path"].startswith("data/AudioWAV/")
    assert log.reconciles()


def test_demographics_found_in_subfolder(tmp_path):
    root = _tree(tmp_path / "repo", demographics=False)
    (root / "data").mkdir()
    (root / "data" / "VideoDemographics.csv").write_text(DEMOGRAPHICS)
    ds, _ = load_corpus("crema_d", root)
    assert _rows(ds)["1001_DFA_ANG_XX"]["gender"] == "male"


def test_git_lfs_pointer_raises(tmp_path):
    root = tmp_path / "CREMA-D"
    write_wav(root / "AudioWAV/1001_DFA_ANG_XX.wav", sample_rate=SR, seconds=0.3)
    write_lfs_pointer(root / "AudioWAV/1001_DFA_DIS_XX.wav")
    with pytest.raises(GitLfsPointerError, match="git lfs pull"):
        load_crema_d(root)


def test_git_lfs_pointer_raises_even_outside_label_set(tmp_path):
    root = tmp_path / "CREMA-D"
    write_lfs_pointer(root / "AudioWAV/1001_DFA_DIS_XX.wav")
    with pytest.raises(GitLfsPointerError):
        load_crema_d(root, label_set="4class")


def test_missing_root(tmp_path):
    with pytest.raises(CorpusLayoutError, match="AudioWAV/AAAA_SSS_EEE_LL.wav"):
        load_crema_d(tmp_path / "missing")


def test_wrong_layout(tmp_path):
    write_wav(tmp_path / "x" / "AudioMP3" / "1001_DFA_ANG_XX.wav", sample_rate=SR, seconds=0.2)
    with pytest.raises(CorpusLayoutError, match="no audio files found.*AudioWAV"):
        load_crema_d(tmp_path / "x")


def test_info():
    assert INFO.labels == ("anger", "disgust", "fear", "happiness", "neutral", "sadness")
    assert {"crema_d_tfds", "crema_d_tfds_exact", "crema_d_speaker5", "crema_d_emobox", "speaker_kfold"} == set(INFO.protocols)


def test_legacy_and_renamed_spelling_keep_one_copy(tmp_path):
    root = tmp_path / "CREMA-D"
    write_wav(root / "AudioWAV/1040_ITH_SAD_X.wav", sample_rate=SR, seconds=0.2)
    write_wav(root / "AudioWAV/1040_ITH_SAD_XX.wav", sample_rate=SR, seconds=0.2)
    ds, log = load_corpus("crema_d", root)
    assert ds["utt_id"] == ["1040_ITH_SAD_XX"]
    assert [(s.path, s.reason) for s in log.skipped] == [
        ("AudioWAV/1040_ITH_SAD_XX.wav", "duplicate of utterance 1040_ITH_SAD_XX")
    ]
    assert log.reconciles()
