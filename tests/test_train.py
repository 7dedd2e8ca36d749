"""End-to-end training runs of the real entry point on the built-in demo data (tiny random model, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from forked_commands import Command, run_commands
from train_helpers import DEMO_RECIPE, FAST, REPO, train_args, train_env


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """The demo recipe, fast variant, 3 steps, both trackers on: one run that the tests below read."""
    from hf_ser.train import main

    tmp = tmp_path_factory.mktemp("smoke")
    out = tmp / "run"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("HF_SER_CACHE", str(tmp / "cache"))
        assert main([str(DEMO_RECIPE), f"train.output_dir={out}", *FAST, "train.max_steps=3", "tracking.report_to=[wandb, tensorboard]"]) == 0
    return out


def test_smoke_run_writes_everything(smoke_run):
    out = smoke_run
    metrics = json.loads((out / "metrics.json").read_text())
    proto = metrics["protocol"]
    assert proto["corpora"] == ["ravdess"] and proto["speaker_independent"] is True
    assert not set(proto["test_speakers"]) & set(proto["train_speakers"])
    assert not set(proto["valid_speakers"]) & set(proto["train_speakers"])
    for key in ("valid/ravdess", "test/ravdess", "cross/crema_d", "cross_unmasked/crema_d"):
        assert {"wa", "ua", "macro_f1", "n"} <= set(metrics["results"][key]), key
    # CREMA-D lacks calm and surprise: the masked figure is on the shared labels only.
    assert "calm" not in metrics["results"]["cross/crema_d"]["shared_labels"]
    assert metrics["augmentation"]["applied"].get("noise", 0) > 0  # the recipe's training-only noise ran
    resolved = yaml.safe_load((out / "recipe.resolved.yaml").read_text())
    assert resolved["train"]["max_steps"] == 3
    assert (out / "model" / "config.json").is_file()
    assert list(out.glob("confusion_test_ravdess.png"))
    report = json.loads((out / "data_report.json").read_text())
    crema = report["targets"]["crema_d"]["crema_d"]
    assert any("1076_MTI_SAD_XX" in s["path"] for s in crema["skipped"])  # the known silent clip, with reason
    for log in [report["train"]["ravdess"], crema]:
        assert log["found"] == log["used"] + len(log["skipped"]) + log["excluded_by_label_set"]
    # Trackers through Accelerate: wandb offline run and tensorboard events inside the run directory.
    assert list((out / "wandb").glob("offline-run-*")), "no offline wandb run"
    assert list(out.rglob("events.out.tfevents.*")), "no tensorboard events"
    assert (out / "curves.png").is_file()
    manifests = [json.loads(line) for line in (out / "manifests" / "test.jsonl").read_text().splitlines()]
    assert manifests and not any(Path(m["rel_path"]).is_absolute() for m in manifests)


def test_saved_model_runs_in_the_transformers_pipeline(smoke_run):
    from transformers import pipeline

    out = smoke_run
    clf = pipeline("audio-classification", model=str(out / "model"))
    wav = next((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav"))
    wave, sr = sf.read(wav, dtype="float32")
    # A file name would make the pipeline call ffmpeg; a decoded waveform needs no system package.
    preds = clf({"raw": wave, "sampling_rate": sr}, top_k=3)
    labels = json.loads((out / "model" / "config.json").read_text())["id2label"].values()
    assert len(preds) == 3 and all(p["label"] in labels for p in preds)


def test_target_corpus_is_refused_as_training_data(tmp_path):
    from hf_ser.train import main

    with pytest.raises(ValueError, match="also used as validation data"):
        main([str(DEMO_RECIPE), f"train.output_dir={tmp_path}", "data.eval_corpora=[{name: ravdess, root: hf_ser/demo_data/ravdess}]"])


def test_frozen_output_cache_trains_like_recomputing(tmp_path):
    """With frozen layers, caching the frozen part's output (epochs 2+) gives the run it replaces."""
    common = [
        *FAST, "model.num_frozen_layers=2", "model.freeze_feature_encoder=true", "data.augment=[]", "data.max_duration_s=20.0", "data.eval_corpora=[]",
        "train.max_steps=24", "train.eval_every_n_steps=12", "model.mask_time_prob=0.0",
        "data.cache_dir=" + str(tmp_path / "cache"),
    ]
    env = train_env(tmp_path)
    # Two training processes forked from one interpreter (one import of torch and transformers, not two).
    runs = [
        Command("hf_ser.train", tuple(train_args(tmp_path / name, *common, *extra)), env)
        for name, extra in (("plain", []), ("cached", ["train.frozen_cache_mb=64"]))
    ]
    for done in run_commands(runs, env=env):
        assert done.returncode == 0, done.stderr[-3000:]
    a = json.loads((tmp_path / "plain" / "metrics.json").read_text())["results"]["test/ravdess"]
    cached = json.loads((tmp_path / "cached" / "metrics.json").read_text())
    b = cached["results"]["test/ravdess"]
    assert cached["frozen_cache"]["hits"] > 0  # later epochs really ran from the cache
    # The cache stores float16 activations: the runs agree to that precision, not bit for bit.
    assert b["loss"] == pytest.approx(a["loss"], abs=0.02)


def test_selected_model_is_not_validated_again(tmp_path, monkeypatch):
    """The results reuse the validation predictions made when the selected model was selected (here an earlier
    step than the final one): the validation split is predicted once per validation, never again at the end,
    and metrics.json's results equal those of predicting it again with the reloaded model."""
    import hf_ser.train as train
    import hf_ser.training.fold as fold

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    calls: list[int] = []
    real_predict, real_evaluate = fold.predict_split, fold.FoldRecipe.evaluate

    def counting_predict(accelerator, model, loader):
        calls.append(id(loader))
        return real_predict(accelerator, model, loader)

    def forgetful_evaluate(recipe):
        recipe.best_outputs = {}  # as if selection had kept no predictions
        return real_evaluate(recipe)

    monkeypatch.setattr(fold, "predict_split", counting_predict)
    results = {}
    for name, evaluate in (("reused", real_evaluate), ("second_pass", forgetful_evaluate)):
        monkeypatch.setattr(fold.FoldRecipe, "evaluate", evaluate)
        calls.clear()
        out = tmp_path / name
        steps = ["train.max_steps=4", "train.eval_every_n_steps=1"]  # four validations inside the first epoch
        assert train.main([str(DEMO_RECIPE), f"train.output_dir={out}", *FAST, *steps]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["best_step"] < 4  # the selected model is not the final weights (reloaded from its folder)
        results[name] = metrics["results"]
        counts = sorted(calls.count(c) for c in set(calls))
        # test once; validation at each of the 4 steps (and the cross-corpus target, through evaluate_target)
        assert counts == ([1, 4] if name == "reused" else [1, 5]), (name, counts)
    assert results["reused"] == results["second_pass"]


def test_whisper_tiny_backbone_trains_and_saves(tmp_path, monkeypatch):
    """The issue-18 command: the exact whisper-tiny encoder architecture on the demo recipe, 5 steps."""
    from transformers import pipeline

    from hf_ser.train import main

    out = tmp_path / "run"
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    assert main([str(DEMO_RECIPE), f"train.output_dir={out}", "train.max_steps=5", "train.batch_size=4",
                 "model.backbone=shape:whisper-tiny"]) == 0
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["backbone_config"]["model_type"] == "whisper" and config["backbone_config"]["d_model"] == 384
    assert (out / "model" / "whisper_encoder.py").is_file()
    wave, sr = sf.read(next((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav")), dtype="float32")
    preds = pipeline("audio-classification", model=str(out / "model"))({"raw": wave, "sampling_rate": sr}, top_k=2)
    assert len(preds) == 2 and all(np.isfinite(p["score"]) for p in preds)


def test_lora_run_reports_trainable_fraction_and_its_merged_model_loads_in_the_pipeline(tmp_path, monkeypatch):
    """The issue-18 LoRA command: adapters on whisper-tiny's upper half; the saved model/ is plain (merged),
    model_unmerged/ keeps the adapters."""
    from transformers import AutoModelForAudioClassification, pipeline

    from hf_ser.train import main

    out = tmp_path / "run"
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    adapter = "model.adapter={type: lora, r: 8, alpha: 16, dropout: 0.1, target_modules: ffn, layers: upper_half}"
    assert main([str(DEMO_RECIPE), f"train.output_dir={out}", "train.max_steps=5", "train.batch_size=4",
                 "model.backbone=shape:whisper-tiny", adapter]) == 0
    parameters = json.loads((out / "metrics.json").read_text())["parameters"]
    assert 0 < parameters["trainable_fraction"] < 0.05
    assert parameters["trainable_fraction"] == pytest.approx(parameters["trainable"] / parameters["total"], abs=1e-6)
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["adapter"] is None and config["merged_adapter"]["layers"] == [2, 3]
    wave, sr = sf.read(next((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav")), dtype="float32")
    preds = pipeline("audio-classification", model=str(out / "model"))({"raw": wave, "sampling_rate": sr}, top_k=2)
    assert len(preds) == 2
    unmerged = AutoModelForAudioClassification.from_pretrained(out / "model_unmerged")
    assert any("lora_A" in name for name, _ in unmerged.named_parameters())
