"""A RAVDESS-style model (with "calm") evaluated on a CREMA-D fixture tree through the real loader."""

import argparse
import json

import torch
from audio_fixtures import write_wav
from eval_fixtures import save_model, tiny_classifier

from hf_ser.commands import evaluate as cli

RAVDESS_LABELS = ["anger", "calm", "happiness", "neutral", "sadness"]
CLIPS = [
    "1001_DFA_ANG_XX",
    "1001_IEO_HAP_HI",
    "1002_TIE_NEU_XX",
    "1002_ITS_SAD_XX",
    "1003_IOM_DIS_XX",  # disgust: outside the 4-class label set, excluded by the loader
    "1076_MTI_SAD_XX",  # known silent file: the loader skips it with its reason
]


def test_crema_d_as_cross_corpus_target(tmp_path, capsys):
    model = tiny_classifier(RAVDESS_LABELS, seed=2)
    with torch.no_grad():  # make calm win everywhere, so the label map decides the unmasked figure
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, 4.0, 0.0, 1.0, 0.0]))
    model_dir = save_model(model, tmp_path / "runs" / "ravdess" / "model")
    protocol = {"corpora": ["ravdess"], "protocol": "luna_jimenez_5fold", "fold": 0, "label_set": "4class"}
    (model_dir.parent / "metrics.json").write_text(json.dumps({"protocol": protocol, "results": {}}))
    root = tmp_path / "CREMA-D"
    for n, name in enumerate(CLIPS):
        write_wav(root / "AudioWAV" / f"{name}.wav", seconds=0.4, freq_hz=180 + 30 * n, seed=n,
                  kind="silence" if name.startswith("1076") else "tone")
    write_wav(root / "AudioWAV" / "1004_TAI_ANG_XX.wav", seconds=0.4, kind="silence")  # silent, not known: judged at eval
    (root / "VideoDemographics.csv").write_text(
        '"ActorID","Age","Sex","Race","Ethnicity"\n1001,51,"Male","Caucasian","Not Hispanic"\n'
        '1002,21,"Female","Caucasian","Not Hispanic"\n'
    )
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([str(model_dir), "--corpus", "crema_d", str(root), "--label-set", "4class",
                              "--label-map", '{"calm": "neutral"}', "--n-boot", "20", "--no-progress"])
    assert cli.run(args) == 0
    report = json.loads((tmp_path / "runs" / "ravdess" / "eval_crema_d" / "report.json").read_text())
    assert report["protocol"]["source_corpora"] == ["ravdess"]
    assert report["protocol"]["folds"] == "luna_jimenez_5fold, fold 0"
    loading = report["protocol"]["target_loading"]["crema_d"]
    assert loading["excluded_by_label_set"] == 1
    assert [s["reason"] for s in loading["skipped"]] == ["known silent file (CREMA-D README)"]
    res = report["results"]["crema_d"]
    assert [x["utt_id"] for x in res["left_out"]] == ["1004_TAI_ANG_XX"]
    assert res["left_out"][0]["reason"].startswith("silent audio")
    # calm is merged into neutral, so nothing is absent and every clip is predicted neutral.
    assert res["eval_labels"] == ["anger", "neutral", "happiness", "sadness"]
    assert res["absent_labels"] == []
    assert res["unmasked"]["wa"] == 0.25 and res["masked"]["wa"] == 0.25
    assert res["breakdowns"]["gender"]["female"]["n"] == 2
    assert res["context"]["speaker_independent"] == "yes (cross-corpus)"
    assert "crema_d" in capsys.readouterr().out
