"""`hf-ser evaluate` end to end, the written reports, and reading a run's protocol."""

import argparse
import json

import pytest
import yaml

from hf_ser.commands import evaluate as cli
from hf_ser.evaluation import read_run_protocol
from hf_ser.evaluation.report import speaker_independence

# These tests look at the PNGs themselves: render them (tests/conftest.py).
pytestmark = pytest.mark.real_plots


def _run(argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def _write_run_files(model_dir, corpora=("ravdess",)):
    # The keys hf_ser's trainer writes (hf_ser.run_dir.ProtocolRecord); a run the trainer really produced is
    # read in tests/test_run_dir.py.
    run_dir = model_dir.parent
    protocol = {"corpora": list(corpora), "protocol": "ravdess_luna5", "fold": 0, "label_set": "4class"}
    (run_dir / "metrics.json").write_text(json.dumps({"protocol": protocol, "results": {}}))
    (run_dir / "recipe.resolved.yaml").write_text(yaml.safe_dump({"data": {"label_set": "4class"}}))


def test_cli_end_to_end_writes_reports_and_pngs(tiny_model_dir, fake_corpus, capsys):
    _write_run_files(tiny_model_dir)
    rc = _run([str(tiny_model_dir), "--corpus", "fake", str(fake_corpus), "--corpus", "fake2", str(fake_corpus),
               "--n-boot", "30", "--no-progress", "--batch-size", "4"])
    assert rc == 0
    out_dir = tiny_model_dir.parent / "eval_fake+fake2"
    for name in ("report.json", "report.md", "summary.txt", "predictions_fake.jsonl"):
        assert (out_dir / name).is_file(), name
    for corpus in ("fake", "fake2"):
        for mode in ("masked", "unmasked"):
            for kind in ("counts", "normalized"):
                assert (out_dir / f"confusion_{corpus}_{mode}_{kind}.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((out_dir / "report.json").read_text())
    protocol = report["protocol"]
    assert protocol["source_corpora"] == ["ravdess"]
    assert protocol["folds"] == "ravdess_luna5, fold 0"
    assert protocol["model_label_set"] == "4class"
    assert protocol["target_corpora"] == ["fake", "fake2"]
    # The corrupt file was skipped by the loader and is reported with its reason.
    skipped = protocol["target_loading"]["fake"]["skipped"]
    assert [s["path"] for s in skipped] == ["m2_sadness_99.wav"]
    fake = report["results"]["fake"]
    assert fake["context"]["speaker_independent"] == "yes (cross-corpus)"
    assert fake["masked"]["n"] == 6 and fake["unmasked"]["n"] == 6
    assert {item["reason"].split(" (")[0] for item in fake["left_out"]} >= {"silent audio"}
    md = (out_dir / "report.md").read_text()
    for text in ("## Target: fake", "trained on ravdess", "ravdess_luna5, fold 0", "speaker-independent: yes",
                 "UA % [95% CI]", "macro-F1", "masked", "unmasked", "by speaker", "fake/f1", "left-out clips"):
        assert text in md, text
    printed = capsys.readouterr().out
    assert "UA" in printed and "fake2" in printed and "masked" in printed


def test_cli_refuses_a_target_that_was_validation_data(tiny_model_dir, fake_corpus, tmp_path):
    _write_run_files(tiny_model_dir, corpora=("fake",))
    rc = _run([str(tiny_model_dir), "--corpus", "fake", str(fake_corpus), "--output", str(tmp_path / "o")])
    assert rc == 2
    assert not (tmp_path / "o").exists()
    rc = _run([str(tiny_model_dir), "--corpus", "fake", str(fake_corpus), "--output", str(tmp_path / "o"),
               "--allow-validation-target", "--n-boot", "0", "--no-progress"])
    assert rc == 0 and (tmp_path / "o" / "report.json").is_file()


def test_label_map_argument(tmp_path):
    assert cli.parse_label_map('{"calm": "neutral", "surprise": null}') == {"calm": "neutral", "surprise": None}
    path = tmp_path / "map.json"
    path.write_text('{"exc": "happiness"}')
    assert cli.parse_label_map(str(path)) == {"exc": "happiness"}
    with pytest.raises(ValueError, match="JSON object"):
        cli.parse_label_map('["calm"]')


def test_run_protocol_is_read_defensively(tmp_path):
    model_dir = tmp_path / "run" / "model"
    model_dir.mkdir(parents=True)
    assert read_run_protocol(model_dir)["source_corpora"] is None
    (model_dir.parent / "metrics.json").write_text("{not json")
    (model_dir.parent / "recipe.resolved.yaml").write_text(
        yaml.safe_dump({"data": {"corpora": [{"name": "iemocap", "root": "x"}], "protocol": "loso"}})
    )
    facts = read_run_protocol(model_dir)
    assert facts["source_corpora"] == ["iemocap"]
    assert facts["folds"] == "loso"
    assert facts["run_protocol"] is None


def test_speaker_independence_wording():
    assert speaker_independence("crema_d", ["ravdess"]).startswith("yes")
    assert speaker_independence("ravdess", ["ravdess"]).startswith("no")
    assert speaker_independence("ravdess", None).startswith("unknown")
