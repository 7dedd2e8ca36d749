"""`hf-ser evaluate` on your own manifest: labels as written, and an unmapped label refused before any audio."""

import json

from audio_fixtures import write_wav

from hf_ser.commands import main


def test_unmapped_label_is_refused_then_dropped_when_asked(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    rows = ["path,label,speaker"]
    for i, label in enumerate(["Angry", "happy", "neutral", "bored_maybe", "bored_maybe"]):
        write_wav(tmp_path / f"{i}.wav", seconds=0.5, seed=i)
        rows.append(f"{i}.wav,{label},s{i}")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    argv = ["evaluate", str(tiny_model_dir), "--corpus", "manifest", str(tmp_path / "manifest.csv"), "--n-boot", "0",
            "--no-progress", "--output", str(tmp_path / "report")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'bored_maybe' (2 clips)" in err and """--label-map '{"bored_maybe": null}'""" in err
    assert not (tmp_path / "report").exists()
    assert main([*argv, "--label-map", '{"bored_maybe": null}']) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    # Angry and happy were read as anger and happiness; the two dropped clips are counted as dropped, not lost
    assert report["results"]["manifest"]["n_scored"] == 3
    assert report["protocol"]["target_loading"]["manifest"]["excluded_by_label_set"] == 2
