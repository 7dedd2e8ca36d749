"""Soft-label training on the demo CREMA-D votes: metrics.json states the targets and scores the distributions."""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).parents[1]
RECIPE = REPO / "recipes" / "demo" / "soft_labels.yaml"
FAST = ["train.batch_size=4", "train.log_every_n_steps=1", "train.max_steps=3"]


def test_soft_label_recipe_reports_targets_macro_f1_and_distribution_scores(tmp_path):
    # The focal option with class-prior weights rides along (the recipe header names it).
    extra = ["model.loss=focal", "model.class_weights=balanced", "model.focal_gamma=1.5"]
    from hf_ser.train import main

    out = tmp_path / "run"
    os.environ["HF_SER_CACHE"] = str(tmp_path / "cache")
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
