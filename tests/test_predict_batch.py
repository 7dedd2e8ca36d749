"""hf-ser predict for batch work: CSV / JSONL rows as files finish, --resume, --top-k, formats soundfile cannot
read, the summary line; --segment vad on a 60-s recording of three speech bursts; --plot."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import write_three_bursts, write_wav
from hub.tiny_run import LABELS, write_tiny_model

import hf_ser
from hf_ser import cli
from hf_ser.audio import SAMPLE_RATE, load_audio

# These tests look at the PNGs themselves: render them (tests/conftest.py).
pytestmark = pytest.mark.real_plots


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture()
def folder(tmp_path):
    for i in range(3):
        write_wav(tmp_path / "in" / f"{i}.wav", seconds=0.5 + 0.3 * i, freq_hz=150 + 80 * i, seed=i)
    (tmp_path / "in" / "phone.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A not decodable by soundfile")
    (tmp_path / "in" / "notes.txt").write_text("not audio")
    return tmp_path / "in"


def test_folder_to_csv_one_row_per_file_with_every_class_and_the_api_numbers(model_dir, folder, tmp_path, capsys, caplog):
    out = tmp_path / "out.csv"
    assert cli.main(["predict", str(model_dir), str(folder), "--output", str(out), "--top-k", "2"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [Path(r["source"]).name for r in rows] == ["0.wav", "1.wav", "2.wav", "phone.m4a"]
    model = hf_ser.load(model_dir, device="cpu")
    for row in rows[:3]:
        expected = model.predict(row["source"])
        assert row["label"] == expected.label and not row["error"]
        assert [float(row[f"p_{lab}"]) for lab in LABELS] == pytest.approx([expected.probabilities[lab] for lab in LABELS], abs=1e-6)
        assert row["top1"] == expected.label and float(row["top1_p"]) >= float(row["top2_p"])
    m4a = rows[3]
    assert not m4a["label"] and "ffmpeg -i" in m4a["error"] and ".m4a" in m4a["error"]
    err = capsys.readouterr().err
    assert "predict: 3 files done, 1 skipped (unreadable audio: 1)" in err
    assert "phone.m4a" in caplog.text and "ffmpeg -i" in caplog.text  # reported per file (a warning) too


def test_a_killed_job_resumes_where_it_stopped_and_an_existing_output_is_not_overwritten(model_dir, folder, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    first = [str(folder / "0.wav"), str(folder / "1.wav")]
    assert cli.main(["predict", str(model_dir), *first, "--output", str(out), "--no-progress"]) == 0
    with out.open("a") as f:
        f.write('{"source": "' + str(folder / "2.wav") + '", "label": "ha')  # killed mid-line
    capsys.readouterr()
    assert cli.main(["predict", str(model_dir), str(folder), "--output", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert cli.main(["predict", str(model_dir), str(folder), "--output", str(out), "--resume"]) == 0
    assert "2 already in" in capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(r["source"]).name for r in records] == ["0.wav", "1.wav", "2.wav", "phone.m4a"]
    assert set(records[2]["probabilities"]) == set(LABELS)


def test_segment_vad_finds_the_three_bursts_within_half_a_second(model_dir, tmp_path):
    path = tmp_path / "interview.wav"
    bursts = write_three_bursts(path)
    out, plots = tmp_path / "seg.csv", tmp_path / "plots"
    assert cli.main(["predict", str(model_dir), str(path), "--segment", "vad", "--output", str(out), "--plot", str(plots)]) == 0
    rows = list(csv.DictReader(out.open()))
    segs = [r for r in rows if r["kind"] == "segment"]
    (file_row,) = [r for r in rows if r["kind"] == "file"]
    spans = [(float(r["start_s"]), float(r["end_s"])) for r in segs]
    assert len(spans) == 3
    for (start, end), (b_start, b_end) in zip(spans, bursts):
        assert abs(start - b_start) <= 0.5 and abs(end - b_end) <= 0.5
    silences = [(0.0, bursts[0][0]), (bursts[0][1], bursts[1][0]), (bursts[1][1], bursts[2][0]), (bursts[2][1], 60.0)]
    for start, end in spans:  # no segment lies inside a silence (beyond the half-second tolerance)
        assert not any(s_lo + 0.5 <= start and end <= s_hi - 0.5 for s_lo, s_hi in silences)
    # the file's distribution: the duration-weighted mean of its segments', over speech only
    weights = np.array([end - start for start, end in spans])
    for lab in LABELS:
        expected = float(np.dot(weights, [float(r[f"p_{lab}"]) for r in segs]) / weights.sum())
        assert float(file_row[f"p_{lab}"]) == pytest.approx(expected, abs=1e-4)
    assert float(file_row["speech_s"]) == pytest.approx(weights.sum(), abs=0.01)
    assert float(file_row["duration_s"]) == pytest.approx(60.0)
    assert (plots / "interview.wav.png").stat().st_size > 1000


def test_segments_from_memory_match_the_file_and_silence_is_reported(model_dir, tmp_path):
    path = tmp_path / "interview.wav"
    bursts = write_three_bursts(path)
    model = hf_ser.load(model_dir, device="cpu")
    from_file = model.segments(path)
    wave, _ = load_audio(path)
    from_memory = model.segments((wave, SAMPLE_RATE))
    assert [(s.start_s, s.end_s) for s in from_memory.segments] == [(s.start_s, s.end_s) for s in from_file.segments]
    assert from_memory.probabilities == pytest.approx(from_file.probabilities, abs=1e-5)
    quiet = model.segments((np.zeros(5 * SAMPLE_RATE, np.float32), SAMPLE_RATE))
    assert quiet.error.startswith("no speech found") and quiet.speech_s == 0.0
    # 0.6 s of speech alone: shorter than min_s, so it is named (with the fix), and classified with a lower min_s
    start = int(bursts[0][0] * SAMPLE_RATE)
    short = np.zeros(4 * SAMPLE_RATE, np.float32)
    short[2 * SAMPLE_RATE : 2 * SAMPLE_RATE + int(0.6 * SAMPLE_RATE)] = wave[start : start + int(0.6 * SAMPLE_RATE)]
    assert "lower min_s" in model.segments((short, SAMPLE_RATE)).error
    assert len(model.segments((short, SAMPLE_RATE), min_s=0.3, max_s=5.0).segments) == 1


def test_user_mistakes_are_one_line_and_status_2_before_any_work(model_dir, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav")
    assert cli.main(["predict", str(tmp_path / "no_model"), str(wav)]) == 2
    assert "no model loads from it" in capsys.readouterr().err
    assert cli.main(["predict", str(model_dir), str(wav), "--resume"]) == 2
    assert "--output" in capsys.readouterr().err
    assert cli.main(["predict", str(model_dir), str(wav), "--output", str(tmp_path / "out.txt")]) == 2
    assert ".csv or .jsonl" in capsys.readouterr().err
    assert cli.main(["predict", str(model_dir), str(wav), "--segment", "vad", "--min-s", "5", "--max-s", "2"]) == 2
    assert "min_s < max_s" in capsys.readouterr().err
    assert not (tmp_path / "out.txt").exists()
