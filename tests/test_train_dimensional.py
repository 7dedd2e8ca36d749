"""Regression and multitask runs of the real entry point on a manifest corpus with dimensional labels."""

import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).parents[1]
# Valence / arousal per demo emotion (a plausible circumplex placement, 1-5 scale as in IEMOCAP).
VA = {"anger": (1.8, 4.5), "happiness": (4.4, 3.9), "sadness": (1.7, 1.8), "neutral": (3.0, 2.5),
      "calm": (3.6, 1.7), "fear": (1.9, 4.0), "disgust": (1.6, 3.1), "surprise": (3.8, 4.4)}
CODES = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness", "05": "anger", "06": "fear",
         "07": "disgust", "08": "surprise"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """The demo RAVDESS described by a manifest with valence / arousal columns (two clips lack them)."""
    root = tmp_path_factory.mktemp("dims")
    lines = []
    for i, wav in enumerate(sorted((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav"))):
        label = CODES[wav.name[6:8]]
        v, a = VA[label] if i not in (3, 40) else ("", "")
        lines.append({"path": str(wav), "label": label, "speaker": wav.name[-6:-4], "valence": v, "arousal": a})
    path = root / "manifest.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    return path


@pytest.mark.parametrize("task", ["regression", "multitask"])
def test_dimensional_run(tmp_path, manifest, monkeypatch, task):
    from hf_ser.train import main

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    out = tmp_path / task
    main([
        str(REPO / "recipes" / "demo" / "ravdess_tiny.yaml"), f"train.output_dir={out}", "train.max_steps=3",
        "train.batch_size=8", f"data.corpora=[{{name: manifest, root: {manifest}}}]", "data.eval_corpora=[]",
        f"model.task={task}", "model.dims=[valence, arousal]",
    ])
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["results"]["test/manifest"]
    assert metrics["protocol"]["dims"] == ["valence", "arousal"]
    assert set(test["dims"]["per_dim"]) == {"valence", "arousal"}
    for dim in ("valence", "arousal"):
        per = test["dims"]["per_dim"][dim]
        assert {"ccc", "pearson", "spearman", "mae"} <= set(per) and per["mae"] >= 0
    assert -1.0 <= test["ccc"] <= 1.0 and np.isfinite(test["ccc"])
    counts = metrics["protocol"]["counts"]
    assert counts["train"] + counts["valid"] + counts["test"] == 96 - 2  # clips without dims left out
    if task == "multitask":
        assert {"ua", "wa", "macro_f1"} <= set(test)
    else:
        assert "ua" not in test
