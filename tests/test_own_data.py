"""Your own recordings, end to end: commands from any folder, the README's own-data commands, a failed start."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).parents[1]
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
FAST = ["train.batch_size=4", "model.backbone=shape:tiny", "train.max_steps=2"]


def test_demo_recipe_trains_from_any_working_folder(tmp_path, monkeypatch):
    from hf_ser.train import main

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    assert main([str(DEMO_RECIPE), "train.output_dir=run", *FAST]) == 0
    # the output folder is relative to the working folder, the corpus roots to the recipe's folder
    metrics = json.loads((elsewhere / "run" / "metrics.json").read_text())
    assert metrics["results"]["test/ravdess"]["n"] == metrics["protocol"]["counts"]["test"] > 0
    assert metrics["results"]["cross/crema_d"]["n"] > 0
