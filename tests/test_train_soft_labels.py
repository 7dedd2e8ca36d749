"""Soft-label training on the demo CREMA-D votes: metrics.json states the targets and scores the distributions."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).parents[1]
RECIPE = REPO / "recipes" / "demo" / "soft_labels.yaml"
FAST = ["train.batch_size=4", "train.log_every_n_steps=1", "train.max_steps=3"]


def test_soft_label_recipe_reports_targets_macro_f1_and_distribution_scores(tmp_path, monkeypatch):
    # The focal option with class-prior weights rides along (the recipe header names it).
    extra = ["model.loss=focal", "model.class_weights=balanced", "model.focal_gamma=1.5"]
    from hf_ser.train import main

    out = tmp_path / "run"
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    assert main([str(RECIPE), f"train.output_dir={out}", *FAST, *extra]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    proto = metrics["protocol"]
    assert proto["targets"] == "soft"
    assert proto["targets_with_votes"] == proto["counts"]["train"]  # every demo clip has votes
    assert (proto["loss"], proto["focal_gamma"], proto["class_weights"]) == ("focal", 1.5, "balanced")
    test = metrics["results"]["test/crema_d"]
    assert 0.0 <= test["macro_f1"] <= 1.0
    dist = test["distribution"]
    assert dist["n"] == test["n"] and 0.0 <= dist["js"] <= 1.0 and dist["kl"] >= 0.0
    assert 0.0 <= dist["multilabel_macro_f1"] <= 1.0 and dist["labels"] == proto["labels"]
    saved = json.loads((out / "model" / "config.json").read_text())
    assert saved["loss"] == proto["loss"]
    # The README's evaluate line on this model: acted and perceived CREMA-D figures side by side.
    import argparse

    from hf_ser.commands import evaluate as cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    argv = [str(out / "model"), "--corpus", "crema_d", "hf_ser/demo_data/crema_d", "--allow-validation-target",
            "--n-boot", "50", "--no-progress"]
    assert cli.run(parser.parse_args(argv)) == 0
    results = json.loads((out / "eval_crema_d" / "report.json").read_text())["results"]
    assert results["crema_d"]["masked"]["n"] == 36 and results["crema_d.perceived"]["masked"]["n"] == 31


def test_readme_demo_commands_dimensional_recipe_then_evaluate(tmp_path, monkeypatch):
    """The README's demo lines: train recipes/demo/dimensional.yaml, then `hf-ser evaluate` it with CCC and CIs."""
    import argparse

    from hf_ser.commands import evaluate as cli
    from hf_ser.train import main

    out = tmp_path / "runs" / "demo_dimensional"
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    recipe = REPO / "recipes" / "demo" / "dimensional.yaml"
    assert main([str(recipe), f"train.output_dir={out}", "train.batch_size=8", "train.max_steps=2"]) == 0
    assert json.loads((out / "metrics.json").read_text())["protocol"]["dims"] == ["valence", "arousal", "dominance"]
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    manifest = REPO / "hf_ser" / "demo_data" / "ravdess" / "dimensions.csv"
    argv = [str(out / "model"), "--corpus", "manifest", str(manifest), "--allow-validation-target", "--n-boot", "100"]
    assert cli.run(parser.parse_args(argv)) == 0
    report = json.loads((out / "eval_manifest" / "report.json").read_text())
    metrics = report["results"]["manifest"]["metrics"]
    assert metrics["n"] == 96 and len(metrics["mean_ccc_ci"]) == 2 and set(metrics["ci"]) == {"valence", "arousal", "dominance"}
    assert report["results"]["manifest"]["context"]["speaker_independent"].startswith("no")
