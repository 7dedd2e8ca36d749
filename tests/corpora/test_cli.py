"""``hf-ser corpora list`` / ``inspect``: the JSON shape and its numbers on a fake RAVDESS tree."""

from __future__ import annotations

import argparse
import json

import pytest
from audio_fixtures import write_corrupt, write_wav

from hf_ser.commands import corpora as cli


def run_cli(argv: list[str], capsys) -> str:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(argv)) == 0
    return capsys.readouterr().out


@pytest.fixture
def ravdess_root(tmp_path):
    """24 actors x (neutral + angry), plus one silent and one corrupt file."""
    root = tmp_path / "RAVDESS"
    speech = root / "Audio_Speech_Actors_01-24"
    for actor in range(1, 25):
        for emotion, intensity in (("01", "01"), ("05", "02")):
            name = f"03-01-{emotion}-{intensity}-01-01-{actor:02d}.wav"
            write_wav(speech / f"Actor_{actor:02d}" / name, sample_rate=48_000, seconds=0.1, seed=actor)
    write_wav(speech / "Actor_01" / "03-01-03-01-01-01-01.wav", sample_rate=48_000, seconds=0.1, kind="silence")
    write_corrupt(speech / "Actor_02" / "03-01-04-01-01-01-02.wav")
    return root


def test_inspect_json_shape_and_counts(ravdess_root, tmp_path, capsys):
    out = run_cli(["inspect", "ravdess", str(ravdess_root), "--json", "--cache-root", str(tmp_path / "cache")], capsys)
    report = json.loads(out)  # exactly one JSON object on stdout
    assert set(report) == {"corpus", "languages", "clips", "speakers", "labels", "label_mapping", "skipped", "folds"}
    # RAVDESS writes emotions as codes: every mapped clip is listed, from its code to the label it got
    assert sum(m["clips"] for m in report["label_mapping"]) == report["clips"]
    assert {m["to"] for m in report["label_mapping"]} == set(report["labels"])
    assert report["corpus"] == "ravdess" and report["languages"] == ["en"]
    assert report["clips"] == 48 and report["speakers"] == 24
    assert report["labels"] == {"anger": 24, "neutral": 24}
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {
        "Audio_Speech_Actors_01-24/Actor_01/03-01-03-01-01-01-01.wav",
        "Audio_Speech_Actors_01-24/Actor_02/03-01-04-01-01-01-02.wav",
    }
    assert skipped["Audio_Speech_Actors_01-24/Actor_01/03-01-03-01-01-01-01.wav"].startswith("silent")
    luna = report["folds"]["ravdess_luna5"]
    assert [sorted(int(s) for s in f["test_speakers"]) for f in luna] == [
        [2, 5, 14, 15, 16], [3, 6, 7, 13, 18], [10, 11, 12, 19, 20], [8, 17, 21, 23, 24], [1, 4, 9, 22]
    ]
    assert [f["test_clips"] for f in luna] == [10, 10, 10, 10, 8]
    assert [f["test_clips"] for f in report["folds"]["ravdess_emobox6"]] == [8] * 6
    assert all("/" not in s for f in luna for s in f["test_speakers"])  # corpus-local ids


def test_inspect_without_audio_check_keeps_silent_files(ravdess_root, tmp_path, capsys):
    out = run_cli(["inspect", "ravdess", str(ravdess_root), "--json", "--no-audio-check"], capsys)
    report = json.loads(out)
    assert report["clips"] == 49  # the silent file is only found by decoding
    assert [s["path"] for s in report["skipped"]] == ["Audio_Speech_Actors_01-24/Actor_02/03-01-04-01-01-01-02.wav"]


def test_inspect_tables_and_label_set(ravdess_root, tmp_path, capsys):
    out = run_cli(
        ["inspect", "ravdess", str(ravdess_root), "--label-set", "anger,sadness", "--cache-root", str(tmp_path / "c")],
        capsys,
    )
    assert "24 usable clips" in out and "protocol ravdess_luna5" in out and "anger" in out
    assert "neutral" not in out.split("skipped")[0]


def test_list_shows_every_corpus_and_its_protocols(capsys):
    out = run_cli(["list"], capsys)
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for name in ("ravdess", "iemocap", "crema_d", "msp_podcast"):
        assert name in lines
    assert "ravdess_luna5" in lines["ravdess"] and "4class" in lines["ravdess"]
    assert "iemocap_session_loso" in lines["iemocap"]
    assert "speaker_kfold" in out
