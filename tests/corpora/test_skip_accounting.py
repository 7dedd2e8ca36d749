"""File accounting shared by every loader (hf_ser.corpora._base): what counts as a corpus file, what is usable,
and which duplicate wins. Counts must reconcile: found == used + skipped + excluded_by_label_set."""

from __future__ import annotations

import os

import pytest
from audio_fixtures import write_wav

from hf_ser.corpora import load_corpus
from hf_ser.models import receptive_field
from hf_ser.models.shapes import shape_config


def _reasons(log):
    return {s.path: s.reason for s in log.skipped}


def _truncate(path, keep_bytes):
    data = path.read_bytes()
    path.write_bytes(data[:keep_bytes])


def test_truncated_wav_is_skipped_with_header_and_file_frame_counts(tmp_path):
    path = write_wav(tmp_path / "wav" / "03a01Fa.wav", sample_rate=16_000, seconds=0.1)  # 1600 frames
    _truncate(path, 44 + 2 * 1000)  # 44-byte header, 16-bit mono: 1000 frames remain
    write_wav(tmp_path / "wav" / "03a01Wa.wav", sample_rate=16_000, seconds=0.1)
    ds, log = load_corpus("emodb", tmp_path)
    assert _reasons(log) == {"wav/03a01Fa.wav": "truncated: header 1600 frames, file holds 1000"}
    assert list(ds["utt_id"]) == ["03a01Wa"]
    assert log.to_dict()["reason_counts"] == {"truncated": 1}
    assert log.reconciles()


def test_upper_and_mixed_case_extensions_are_wav(tmp_path):
    write_wav(tmp_path / "wav" / "03a01Fa.WAV", seconds=0.1)
    write_wav(tmp_path / "wav" / "03a01Wa.Wav", seconds=0.1)
    write_wav(tmp_path / "wav" / "03a01Na.wav", seconds=0.1)
    ds, log = load_corpus("emodb", tmp_path)
    assert sorted(ds["utt_id"]) == ["03a01Fa", "03a01Na", "03a01Wa"]
    assert (log.found, log.used, log.skipped) == (3, 3, [])


def test_dangling_symlink_is_found_and_reported(tmp_path):
    write_wav(tmp_path / "wav" / "03a01Fa.wav", seconds=0.1)
    os.symlink(tmp_path / "elsewhere" / "03a01Wa.wav", tmp_path / "wav" / "03a01Wa.wav")
    ds, log = load_corpus("emodb", tmp_path)
    reasons = _reasons(log)
    assert list(reasons) == ["wav/03a01Wa.wav"]
    assert reasons["wav/03a01Wa.wav"].startswith("dangling symbolic link")
    assert (log.found, log.used, len(log.skipped)) == (2, 1, 1) and log.reconciles()


def test_hidden_files_and_folders_are_not_part_of_the_corpus(tmp_path):
    write_wav(tmp_path / "wav" / "03a01Fa.wav", seconds=0.1)
    write_wav(tmp_path / ".Trash" / "wav" / "03a01Wa.wav", seconds=0.1)  # hidden folder
    write_wav(tmp_path / "wav" / ".03a01Na.wav", seconds=0.1)  # hidden file
    write_wav(tmp_path / "wav" / "._03a01Fa.wav", seconds=0.1)  # AppleDouble
    write_wav(tmp_path / "__MACOSX" / "wav" / "03a01Ta.wav", seconds=0.1)
    ds, log = load_corpus("emodb", tmp_path)
    assert list(ds["utt_id"]) == ["03a01Fa"]
    assert (log.found, log.used, log.skipped) == (1, 1, [])


def test_first_usable_duplicate_wins(tmp_path):
    bad = write_wav(tmp_path / "a" / "wav" / "03a01Fa.wav", seconds=0.1)
    _truncate(bad, 100)
    write_wav(tmp_path / "b" / "wav" / "03a01Fa.wav", seconds=0.1)
    write_wav(tmp_path / "c" / "wav" / "03a01Fa.wav", seconds=0.1)
    ds, log = load_corpus("emodb", tmp_path)
    assert list(ds["rel_path"]) == ["b/wav/03a01Fa.wav"]
    reasons = _reasons(log)
    assert reasons["a/wav/03a01Fa.wav"].startswith("truncated: header 1600 frames")
    assert reasons["c/wav/03a01Fa.wav"] == "duplicate of utterance 03a01Fa"
    assert (log.found, log.used, len(log.skipped)) == (3, 1, 2) and log.reconciles()


def test_clip_shorter_than_the_receptive_field_is_skipped(tmp_path):
    m = receptive_field(shape_config("xlsr-53"))
    assert m == 400  # 25 ms at 16 kHz: kernels 10,3,3,3,3,2,2 with strides 5,2,2,2,2,2,2
    write_wav(tmp_path / "wav" / "03a01Fa.wav", sample_rate=16_000, seconds=0.010)  # 160 samples
    write_wav(tmp_path / "wav" / "03a01Wa.wav", sample_rate=48_000, seconds=0.010)  # 480 -> 160 at 16 kHz
    write_wav(tmp_path / "wav" / "03a01Na.wav", sample_rate=16_000, seconds=0.025)  # exactly 400
    ds, log = load_corpus("emodb", tmp_path, min_samples=m)
    assert list(ds["utt_id"]) == ["03a01Na"]
    assert {p: r.split(" (")[0] for p, r in _reasons(log).items()} == {
        "wav/03a01Fa.wav": "too short: 160 samples < 400",
        "wav/03a01Wa.wav": "too short: 160 samples < 400",
    }
    assert log.to_dict()["reason_counts"] == {"too short": 2} and log.reconciles()
    # Without a minimum the same clips are used.
    ds, log = load_corpus("emodb", tmp_path)
    assert len(ds) == 3


@pytest.mark.parametrize(
    "shape, expected",
    [("xlsr-53", 400), ("tiny", 1 + 9 + 7 * 5 + 3 * 40), ("small", 400)],
)
def test_receptive_field_of_the_shapes(shape, expected):
    config = shape_config(shape)
    assert receptive_field(config) == expected
    assert receptive_field(type("Baseline", (), {})()) == 1  # no CNN: no minimum


def test_dangling_metadata_link_is_ignored_not_read(tmp_path):
    # Metadata files are read, not counted: a dangling one must neither crash the load nor count as a clip.
    write_wav(tmp_path / "bea_Amused" / "amused_1-15_0001.wav", seconds=0.1)
    os.symlink(tmp_path / "gone" / "cmuarctic.data", tmp_path / "cmuarctic.data")
    ds, log = load_corpus("emov_db", tmp_path)
    assert (log.found, log.used, log.skipped) == (1, 1, []) and ds[0]["text"] == ""
